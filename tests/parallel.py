"""How the suite shares out its tests among pytest-xdist's workers (`-n 3`).

Each worker is a process of its own with a test database of its own (`test_<name>_gw0`, …,
see `django_db_setup`), its own Redis key prefix and job queues (the settings name them after
the process id) and its own sandboxes and Callrix server on ports the system picks.

The browser tests (`tests/browser/`) all go to one worker. Playwright's sync API keeps an
event loop on that worker's main thread, which code that starts its own loop (the LiveKit
SDK's) must not meet afterwards. With two workers or more, the browser tests are handed out
first and their worker is given nothing after them, so they run beside the rest instead of
after it; with one worker, they are handed out last, as `pytest_collection_modifyitems`
orders a serial run. Every other test is handed out on its own, as xdist's `load` does.

The group is found by path, not by an `xdist_group` mark: pytest 9.2's structured node ids
no longer carry the group suffix that xdist's `loadgroup` reads (pytest-xdist issue #1386).
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

BROWSER_TESTS = "tests/browser/"
BROWSER_GROUP = "browser"


class BrowserWorkerScheduling(LoadGroupScheduling):
    """One work unit per test, but the browser tests are one unit, alone on its worker (or
    last on the only one)."""

    browser_alone = False

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(BROWSER_TESTS):
            return BROWSER_GROUP
        return super()._split_scope(nodeid)

    def _assign_work_unit(self, node) -> None:
        if BROWSER_GROUP in self.workqueue:
            # Decided when the group is handed out (again, should its worker have crashed).
            self.browser_alone = len(self.nodes) > 1
            self.workqueue.move_to_end(BROWSER_GROUP, last=not self.browser_alone)
        super()._assign_work_unit(node)

    def _reschedule(self, node) -> None:
        if self.browser_alone and BROWSER_GROUP in self.assigned_work.get(node, {}):
            # Nothing more for it: it finishes what it has (a worker holds back its last test
            # until it knows whether more come) and stops.
            if not node.shutting_down:
                node.shutdown()
            return
        super()._reschedule(node)
