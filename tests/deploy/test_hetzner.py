"""deploy/hetzner/cloud-init.yml: what the server promises (privacy policy §7 and §10)."""

from __future__ import annotations

from pathlib import Path

import yaml

CLOUD_INIT = Path(__file__).resolve().parents[2] / "deploy" / "hetzner" / "cloud-init.yml"


def _files(config: dict) -> dict[str, str]:
    return {entry["path"]: entry["content"] for entry in config["write_files"]}


def test_cloud_init_hardens_updates_and_keeps_logs_ninety_days():
    text = CLOUD_INIT.read_text()
    assert text.startswith("#cloud-config\n")
    config = yaml.safe_load(text)
    assert config["ssh_pwauth"] is False and config["disable_root"] is True
    assert {"docker-ce", "docker-compose-plugin", "unattended-upgrades"} <= set(config["packages"])
    files = _files(config)
    assert 'APT::Periodic::Unattended-Upgrade "1";' in files["/etc/apt/apt.conf.d/20auto-upgrades"]
    assert "PasswordAuthentication no" in files["/etc/ssh/sshd_config.d/10-callrix.conf"]
    assert '"log-driver": "journald"' in files["/etc/docker/daemon.json"]
    retention = files["/etc/systemd/journald.conf.d/10-callrix-retention.conf"]
    assert "MaxRetentionSec=90day" in retention
    assert "docker" in config["groups"] and "docker" in config["users"][0]["groups"]
