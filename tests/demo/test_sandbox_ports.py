"""Two demos on one machine: a stand-in whose usual port is held elsewhere starts on a free
one instead of quietly using the other demo's (whose webhooks go to that demo)."""

from __future__ import annotations

import socket

from demo import offline


def test_a_sandbox_keeps_its_usual_port_when_free_and_moves_when_taken():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        free_port = holder.getsockname()[1]
    usual = offline.Sandbox("livekit", "sandboxes.livekit_sandbox", free_port, "LIVEKIT_URL")
    assert offline.on_a_free_port(usual) == usual

    with socket.socket() as other_demo:
        other_demo.bind(("127.0.0.1", free_port))
        other_demo.listen()
        moved = offline.on_a_free_port(usual)
    assert moved.port != free_port and moved.port > 0
    assert (moved.name, moved.module, moved.env_var) == (usual.name, usual.module, usual.env_var)
