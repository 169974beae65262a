"""The processes `mlsec up` supervises, and how they are stopped: each child leads its own process group,
so a signal reaches the service and every worker it started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from mlsec.launcher.restart import RestartPolicy, RestartRecord

LOG_TAIL_LINES = 25


@dataclass
class Child:
    """One supervised process and what we know of it."""

    name: str
    argv: list[str]
    ready_url: str
    url: str
    colour: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    ready_after: float | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))
    pump: asyncio.Task[None] | None = None
    record: RestartRecord = field(default_factory=lambda: RestartRecord(RestartPolicy()))

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None


def signal_group(child: Child, sig: signal.Signals) -> None:
    """Signal the child's whole process group (a no-op once nothing of it is left)."""
    assert child.process is not None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, sig)


def process_tree(children: list[Child]) -> list[psutil.Process]:
    """Every process the children run, workers included, while they still run."""
    procs: list[psutil.Process] = []
    for child in children:
        assert child.process is not None
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(child.process.pid)
            procs.extend([root, *root.children(recursive=True)])
    return procs


async def stop_children(children: list[Child], grace_seconds: float) -> None:
    """SIGTERM every process group in the given order, then SIGKILL what remains after the grace period."""
    tree = process_tree(children)
    for child in children:
        signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for child in children:
        assert child.process is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.process.wait(), max(0.1, deadline - time.monotonic()))
    for child in children:
        signal_group(child, signal.SIGKILL)
    _, alive = psutil.wait_procs(tree, timeout=0.5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    for child in children:
        assert child.process is not None
        with contextlib.suppress(ProcessLookupError):
            await child.process.wait()
        if child.pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(child.pump, 2.0)
