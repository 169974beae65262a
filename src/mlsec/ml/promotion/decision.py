"""The promotion decision: run the paired tests and every check, and keep all of it as evidence.

The decision's `to_dict()` is stored as the evidence for promoting (or keeping) a model and must be
readable on its own later, so it lists every check, both models' metrics, the tests and the criteria.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlsec.ml.promotion.argument_checks import _is_number
from mlsec.ml.promotion.checks import Check, _f1_checks, _latency_check, _redteam_check, _significance_check
from mlsec.ml.promotion.criteria import PromotionCriteria
from mlsec.ml.promotion.model_metrics import ModelMetrics
from mlsec.ml.promotion.significance import (
    BootstrapResult,
    Labels,
    McNemarResult,
    _paired,
    bootstrap_f1_difference,
    mcnemar,
)


@dataclass(frozen=True)
class PromotionDecision:
    """promote is True only when every applicable check passed; everything behind it is kept."""

    promote: bool
    checks: tuple[Check, ...]
    champion: ModelMetrics
    challenger: ModelMetrics
    mcnemar: McNemarResult
    bootstrap: BootstrapResult
    criteria: PromotionCriteria
    n: int
    positive_label: str
    negative_label: str
    latency_ms: dict[str, float | None]
    redteam_detection_rate: dict[str, float | None]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.applicable and not check.passed)

    @property
    def summary(self) -> str:
        applicable = sum(check.applicable for check in self.checks)
        if self.promote:
            return f"promote the challenger: all {applicable} applicable checks passed"
        return "keep the champion: failed " + ", ".join(check.name for check in self.failed)

    def to_dict(self) -> dict[str, Any]:
        """The evidence of the decision, plain JSON types only (no NaN, no numpy scalars)."""
        return {
            "promote": self.promote,
            "summary": self.summary,
            "failed_checks": [check.name for check in self.failed],
            "checks": [check.to_dict() for check in self.checks],
            "n": self.n,
            "labels": {"positive": self.positive_label, "negative": self.negative_label},
            "metrics": {"champion": self.champion.to_dict(), "challenger": self.challenger.to_dict()},
            "mcnemar": self.mcnemar.to_dict(),
            "bootstrap": self.bootstrap.to_dict(),
            "latency_ms": dict(self.latency_ms),
            "redteam_detection_rate": dict(self.redteam_detection_rate),
            "criteria": self.criteria.to_dict(),
        }


def _optional(value: float | None, name: str, *, upper: float = math.inf) -> float | None:
    if value is None:
        return None
    if not (_is_number(value) and 0.0 <= value <= upper):
        bounds = "a finite number >= 0" if upper == math.inf else f"in [0, {upper:g}]"
        raise ValueError(f"{name} must be {bounds} or None, got {value!r}")
    return float(value)


def _check_classes(arrays: Sequence[np.ndarray[Any, Any]], positive: str, negative: str) -> None:
    if positive == negative:
        raise ValueError(f"positive_label and negative_label are both {positive!r}")
    for name, array in zip(("y_true", "pred_champion", "pred_challenger"), arrays, strict=True):
        unexpected = sorted(set(np.unique(array).tolist()) - {positive, negative})
        if unexpected:
            shown = ", ".join(repr(label) for label in unexpected[:5])
            raise ValueError(f"{name} has labels other than {negative!r} and {positive!r}: {shown}")


def evaluate_promotion(
    y_true: Labels,
    pred_champion: Labels,
    pred_challenger: Labels,
    *,
    criteria: PromotionCriteria,
    champion_latency_ms: float | None = None,
    challenger_latency_ms: float | None = None,
    champion_redteam_rate: float | None = None,
    challenger_redteam_rate: float | None = None,
    positive_label: str = "1",
    negative_label: str = "0",
    seed: int = 0,
    extra_checks: Sequence[Check] = (),
) -> PromotionDecision:
    """Decide whether the challenger replaces the champion, on paired held-out predictions.

    Checks, in order: significance (McNemar), f1_gain (observed), f1_gain_interval (bootstrap lower
    bound > 0), latency and redteam, then `extra_checks` judged elsewhere (the SLA criterion,
    `sla.sla_check`). A check the criteria require whose input was not given fails and says so.
    ValueError for empty or mismatched inputs, labels outside the two classes, and latencies or rates
    that are not finite, non-negative numbers (rates at most 1).
    """
    positive, negative = str(positive_label), str(negative_label)
    arrays = _paired(y_true, pred_champion, pred_challenger)
    _check_classes(arrays, positive, negative)
    latency = {
        "champion": _optional(champion_latency_ms, "champion_latency_ms"),
        "challenger": _optional(challenger_latency_ms, "challenger_latency_ms"),
    }
    rates = {
        "champion": _optional(champion_redteam_rate, "champion_redteam_rate", upper=1.0),
        "challenger": _optional(challenger_redteam_rate, "challenger_redteam_rate", upper=1.0),
    }
    truth, champion, challenger = arrays
    paired_test = mcnemar(truth, champion, challenger)
    interval = bootstrap_f1_difference(
        truth,
        champion,
        challenger,
        positive_label=positive,
        n_resamples=criteria.n_resamples,
        confidence=1.0 - criteria.alpha,
        seed=seed,
    )
    checks = (
        _significance_check(paired_test, criteria),
        *_f1_checks(interval, criteria),
        _latency_check(criteria, latency["champion"], latency["challenger"]),
        _redteam_check(criteria, rates["champion"], rates["challenger"]),
        *extra_checks,
    )
    return PromotionDecision(
        promote=all(check.passed for check in checks if check.applicable),
        checks=checks,
        champion=ModelMetrics.of(truth, champion, positive),
        challenger=ModelMetrics.of(truth, challenger, positive),
        mcnemar=paired_test,
        bootstrap=interval,
        criteria=criteria,
        n=int(truth.shape[0]),
        positive_label=positive,
        negative_label=negative,
        latency_ms=latency,
        redteam_detection_rate=rates,
    )
