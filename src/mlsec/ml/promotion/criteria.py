"""What a challenger must show to replace the champion, validated once when the criteria are built.

The criteria are stored with every decision as part of its evidence, so they are plain Python numbers
by the time anyone reads them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlsec.ml.promotion.argument_checks import _is_count, _is_number


@dataclass(frozen=True)
class PromotionCriteria:
    """What a challenger must show to replace the champion; validated on construction.

    alpha: McNemar's significance level; the bootstrap interval is the matching (1 - alpha) one.
    min_f1_gain: the observed F1 gain must be at least this, and the interval's lower bound above 0.
    max_latency_ms: the challenger's p50 latency must not exceed it; None: latency is not checked.
    max_redteam_drop: the challenger's red-team detection rate may be at most this far below the
    champion's; None: not checked.
    require_significance: McNemar p < alpha, with the challenger making fewer errors (c > b).
    n_resamples: bootstrap resamples behind the F1 interval.
    """

    alpha: float = 0.05
    min_f1_gain: float = 0.0
    max_latency_ms: float | None = None
    max_redteam_drop: float | None = 0.0
    require_significance: bool = True
    n_resamples: int = 2000

    def __post_init__(self) -> None:
        if not (_is_number(self.alpha) and 0.0 < self.alpha < 1.0):
            raise ValueError(f"alpha must be strictly between 0 and 1, got {self.alpha!r}")
        if not (_is_number(self.min_f1_gain) and 0.0 <= self.min_f1_gain < 1.0):
            raise ValueError(f"min_f1_gain must be in [0, 1), got {self.min_f1_gain!r}")
        if self.max_latency_ms is not None and not (_is_number(self.max_latency_ms) and self.max_latency_ms > 0):
            raise ValueError(f"max_latency_ms must be a positive number or None, got {self.max_latency_ms!r}")
        drop = self.max_redteam_drop
        if drop is not None and not (_is_number(drop) and 0.0 <= drop <= 1.0):
            raise ValueError(f"max_redteam_drop must be in [0, 1] or None, got {drop!r}")
        if not isinstance(self.require_significance, bool):
            raise ValueError(f"require_significance must be a bool, got {self.require_significance!r}")
        resamples = self.n_resamples
        if not _is_count(resamples):
            raise ValueError(f"n_resamples must be a positive integer, got {resamples!r}")
        # Plain Python numbers from here on: to_dict() is stored as JSON, and numpy integers are not JSON.
        for name in ("alpha", "min_f1_gain", "max_latency_ms", "max_redteam_drop"):
            value = getattr(self, name)
            object.__setattr__(self, name, None if value is None else float(value))
        object.__setattr__(self, "n_resamples", int(resamples))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
