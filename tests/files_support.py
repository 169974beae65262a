"""For tests of file modes: a path's mode, and a umask wider than a careful user's, so that a file the code
creates without asking for its mode shows up as 0664 or 0775 (what a shared machine's default would give)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    saved = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(saved)
