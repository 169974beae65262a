"""Process utilities shared by the launcher and the services' worker processes."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM, *, parent_pid: int | None = None) -> None:
    """Ask Linux to send `sig` to this process when its parent dies, so no worker is orphaned.

    A child that asks only after some start-up work may have lost its parent already: give
    `parent_pid` and it exits at once in that case. A no-op on other systems; safe between fork
    and exec.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig))
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)
