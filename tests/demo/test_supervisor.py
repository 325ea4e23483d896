"""The demo's supervisor starts a crashed child again and says so, backs off a child that
keeps dying, and brings back a server that stopped answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from demo.supervisor import Service, Supervisor


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_killed_child_is_started_again_and_the_log_says_so():
    said: list[str] = []
    supervisor = Supervisor(say=said.append)
    first = supervisor.spawn("worker", _sleeper)
    try:
        assert supervisor.check() == []
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=5)
        assert supervisor.check() == ["worker"]  # the first restart is immediate
        again = supervisor.children[0].process
        assert again.pid != first.pid and again.poll() is None
        assert said[0] == "demo: worker exited with code -9; restarting in 0 s"
        assert said[1] == f"demo: worker restarted (pid {again.pid})"
        os.kill(again.pid, signal.SIGKILL)
        again.wait(timeout=5)
        assert supervisor.check() == []  # dying again: it waits a moment first
        assert said[-1] == "demo: worker exited with code -9; restarting in 1 s"
        time.sleep(1.1)
        assert supervisor.check() == ["worker"]
    finally:
        supervisor.stop(timeout=5)
    assert all(child.process.poll() is not None for child in supervisor.children)


def test_a_server_that_stops_answering_is_brought_back():
    state = {"up": False, "starts": 0}

    def start() -> None:
        state["starts"] += 1
        state["up"] = True

    said: list[str] = []
    supervisor = Supervisor(say=said.append)
    supervisor.watch(Service("Redis", answers=lambda: state["up"], start=start))
    assert supervisor.check() == ["Redis"]
    assert supervisor.check() == []
    assert state["starts"] == 1
    assert said == ["demo: Redis stopped answering; starting it again", "demo: Redis is back"]
