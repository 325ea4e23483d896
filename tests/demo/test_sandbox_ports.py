"""The demo starts its own stand-ins: when another program (another checkout's demo) already
answers on a stand-in's usual port, the demo's stand-in takes a free port instead of quietly
talking to a process it did not start; a restart keeps the port Callrix was given."""

from __future__ import annotations

import socket

from demo import offline


def test_a_taken_port_gives_the_sandbox_a_free_one(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLRIX_HOME", str(tmp_path))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        sandbox = offline.Sandbox("fcm", "sandboxes.fcm_sandbox", taken, "FCM_API_BASE")
        process, url = offline.start(sandbox)
        try:
            port = int(url.rsplit(":", 1)[1])
            assert port != taken
            assert offline.recorded_url("fcm") == url
            # It is ours: the stand-in answers there, with its state under our home.
            account = offline.post_json(
                f"{url}/_sandbox/service-accounts", {"project_id": "callrix-demo"}
            )
            assert account["project_id"] == "callrix-demo" and process.poll() is None
        finally:
            process.terminate()
            process.wait(timeout=10)
        restarted, again = offline.start(sandbox, port=port)
        try:
            assert again == url
        finally:
            restarted.terminate()
            restarted.wait(timeout=10)
