"""Progress reporting of a training run: a callback told (percent, step), whose percent only grows.

A caller shows it as a progress bar; forwarding through one guard means no training step can make the
bar go backwards.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, str], None]  # (percent 0-100, step name); called with increasing percent


class _Progress:
    """Forwards progress to the callback, refusing to go backwards (a caller's bar must only grow)."""

    def __init__(self, callback: ProgressCallback | None):
        self.callback, self.last = callback, -1

    def __call__(self, percent: int, step: str) -> None:
        if percent <= self.last:
            raise AssertionError(f"progress went from {self.last} to {percent}")
        self.last = percent
        if self.callback is not None:
            self.callback(percent, step)
