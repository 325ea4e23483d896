"""How the suite shares out its tests among pytest-xdist's workers (`--dist loadgroup`).

Each worker is a process of its own with a test database of its own (`test_<name>_gw0`, …,
see `django_db_setup`), its own Redis key prefix and job queues (the settings name them after
the process id) and its own sandboxes and Callrix server on ports the system picks.

The browser tests (xdist group `browser`) all go to one worker. Playwright's sync API keeps an
event loop on that worker's main thread, which code that starts its own loop (the LiveKit
SDK's) must not meet afterwards. With two workers or more, the browser group is handed out
first and its worker is given nothing after it, so it runs beside the rest instead of after
it; with one worker, it is handed out last, as `pytest_collection_modifyitems` orders a
serial run.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

BROWSER_GROUP = "browser"


class BrowserWorkerScheduling(LoadGroupScheduling):
    """`loadgroup`, with the browser group alone on its worker (or last on the only one)."""

    browser_alone = False

    def _assign_work_unit(self, node) -> None:
        if BROWSER_GROUP in self.workqueue:
            # Decided when the group is handed out (again, should its worker have crashed).
            self.browser_alone = len(self.nodes) > 1
            self.workqueue.move_to_end(BROWSER_GROUP, last=not self.browser_alone)
        super()._assign_work_unit(node)

    def _reschedule(self, node) -> None:
        if self.browser_alone and BROWSER_GROUP in self.assigned_work.get(node, {}):
            if not self._pending_of(self.assigned_work[node]) and not node.shutting_down:
                node.shutdown()
            return
        super()._reschedule(node)
