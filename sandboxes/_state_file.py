"""The JSON file a sandbox may keep its state in, so the demo's accounts, rooms and messages
outlive a restart."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def state_read(path: Path | None) -> dict[str, Any] | None:
    """The saved state; None when there is no state file or it was never written."""
    if path is None or not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def state_write(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file in one step: a crash mid-write leaves the previous state."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(state))
    os.replace(partial, path)
