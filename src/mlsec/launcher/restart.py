"""When `mlsec up` restarts a process that died, and when it stops trying.

A process that exits on its own is started again after a back-off that doubles from
`initial_delay` up to `max_delay`; a run that lasted `stable_after` seconds resets the back-off, so a
process that crashes once a day restarts at once every time. A crash loop (`max_crashes` exits within
`window` seconds) gives up on that one process: the others keep running, and the gateway keeps serving
what it can without it. Pure logic, no processes: the supervisor asks and acts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

ProcessState = Literal["starting", "ready", "restarting", "given_up"]


@dataclass(frozen=True)
class RestartPolicy:
    """How hard the supervisor tries; the defaults give up after 5 crashes within 2 minutes."""

    initial_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    max_crashes: int = 5
    window: float = 120.0

    def __post_init__(self) -> None:
        if not 0 < self.initial_delay <= self.max_delay:
            raise ValueError("need 0 < initial_delay <= max_delay")
        if self.max_crashes < 1 or self.window <= 0 or self.stable_after <= 0:
            raise ValueError("max_crashes, window and stable_after must be positive")


@dataclass
class RestartRecord:
    """One process's crash history, and what the policy says to do about the latest exit."""

    policy: RestartPolicy
    state: ProcessState = "starting"
    restarts: int = 0
    last_exit_code: int | None = None
    next_start_at: float | None = None  # monotonic seconds, while `restarting`
    _delay: float = 0.0
    _crashes: deque[float] = field(default_factory=deque)

    def exited(self, code: int, *, ran_for: float, now: float) -> float | None:
        """Record an exit at `now` after `ran_for` seconds; the delay before the restart, or None to give up."""
        self.last_exit_code = code
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > self.policy.window:
            self._crashes.popleft()
        if len(self._crashes) >= self.policy.max_crashes:
            self.state, self.next_start_at = "given_up", None
            return None
        if ran_for >= self.policy.stable_after or self._delay == 0.0:
            self._delay = self.policy.initial_delay
        else:
            self._delay = min(self._delay * 2, self.policy.max_delay)
        self.state, self.next_start_at = "restarting", now + self._delay
        return self._delay

    def due(self, now: float) -> bool:
        """Whether a restart is waiting and its back-off has passed."""
        return self.state == "restarting" and self.next_start_at is not None and now >= self.next_start_at

    def restarted(self) -> None:
        self.restarts += 1
        self.state, self.next_start_at = "starting", None

    @property
    def recent_crashes(self) -> int:
        return len(self._crashes)
