"""What `mlsec up` knows of its processes, in a file `mlsec status` reads: `MLSEC_HOME/run/processes.json`.

The supervisor rewrites it (atomically, mode 0600) whenever a process starts, becomes ready, dies, is
restarted or is given up on, and removes it when the platform stops. A file left by a supervisor that
is no longer running (killed with -9) is ignored, so `mlsec status` never reports a dead launcher's
view as current.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import psutil

from mlsec.core.files import write_private
from mlsec.core.settings import Settings

STATE_FILE = "processes.json"


def state_path(settings: Settings) -> Path:
    return settings.home / "run" / STATE_FILE


def write_state(path: Path, processes: dict[str, dict[str, Any]]) -> None:
    """Replace the file in one step, readable by its owner only."""
    write_private(path, json.dumps({"supervisor_pid": os.getpid(), "processes": processes}, sort_keys=True))


def remove_state(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def read_state(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each process's `state`, `restarts`, `last_exit_code` and `pid`, by name; {} when no launcher runs."""
    try:
        value = json.loads(state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("processes"), dict):
        return {}
    pid = value.get("supervisor_pid")
    if not isinstance(pid, int) or not psutil.pid_exists(pid):
        return {}
    return {str(name): entry for name, entry in value["processes"].items() if isinstance(entry, dict)}
