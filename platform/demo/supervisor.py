"""The demo's process supervisor: a child that dies (web server, worker, scheduler, a
sandbox) is started again, and the embedded Redis and PostgreSQL are brought back when they
stop answering, instead of one crash stopping everything. Each restart is said in the log."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("callrix.demo")

# A child that keeps dying is restarted at most this often, so a broken one cannot spin.
RESTART_BACKOFF_SECONDS = (0.0, 1.0, 2.0, 5.0, 10.0)
STABLE_AFTER_SECONDS = 60.0  # running this long resets the back-off


@dataclass
class Child:
    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen
    started_at: float = field(default_factory=time.monotonic)
    failures: int = 0
    due_at: float | None = None  # when a restart is due, while it is down


@dataclass
class Service:
    """A server the demo did not start as a child (daemonized): checked and started again."""

    name: str
    answers: Callable[[], bool]
    start: Callable[[], object]


class Supervisor:
    def __init__(self, say: Callable[[str], None] | None = None) -> None:
        self.children: list[Child] = []
        self.services: list[Service] = []
        self.say = say or logger.warning

    def spawn(self, name: str, start: Callable[[], subprocess.Popen]) -> subprocess.Popen:
        process = start()
        self.children.append(Child(name=name, start=start, process=process))
        return process

    def watch(self, service: Service) -> None:
        self.services.append(service)

    def check(self) -> list[str]:
        """One round: restart what died or stopped answering; returns what was restarted."""
        restarted = []
        now = time.monotonic()
        for service in self.services:
            if not service.answers():
                self.say(f"demo: {service.name} stopped answering; starting it again")
                try:
                    service.start()
                    restarted.append(service.name)
                    self.say(f"demo: {service.name} is back")
                except Exception as error:  # keep supervising the rest; retried next round
                    self.say(f"demo: {service.name} did not start: {error}")
        for child in self.children:
            code = child.process.poll()
            if code is None:
                if now - child.started_at > STABLE_AFTER_SECONDS:
                    child.failures = 0
                continue
            if child.due_at is None:
                delay = RESTART_BACKOFF_SECONDS[
                    min(child.failures, len(RESTART_BACKOFF_SECONDS) - 1)
                ]
                child.due_at = now + delay
                self.say(f"demo: {child.name} exited with code {code}; restarting in {delay:.0f} s")
            if now < child.due_at:
                continue
            try:
                child.process = child.start()
            except Exception as error:  # e.g. its port still held: try again later
                child.failures += 1
                child.due_at = None
                self.say(f"demo: {child.name} did not start: {error}")
                continue
            child.failures += 1
            child.started_at, child.due_at = now, None
            restarted.append(child.name)
            self.say(f"demo: {child.name} restarted (pid {child.process.pid})")
        return restarted

    def stop(self, timeout: float = 15.0) -> None:
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
