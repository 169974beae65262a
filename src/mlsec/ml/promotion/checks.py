"""The promotion conditions, each one a Check with the number it saw and the number it needed.

One function per condition (significance, F1 gain and its interval, latency, red-team rate); a check the
criteria switch off is kept, marked not applicable, so the evidence shows it was not asked for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mlsec.ml.promotion.criteria import PromotionCriteria
from mlsec.ml.promotion.significance import BootstrapResult, McNemarResult

_TOLERANCE = 1e-12  # float slack when comparing an observed gain or rate with a required one


@dataclass(frozen=True)
class Check:
    """One promotion condition: what was observed, what was required, and whether it held.

    A check that the criteria switch off is kept, with applicable=False (and passed=True), so the
    evidence shows it was not asked for rather than silently missing.
    """

    name: str
    passed: bool
    observed: float | None
    required: str
    detail: str
    applicable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _not_checked(name: str, setting: str) -> Check:
    return Check(name, True, None, "not checked", f"criteria.{setting} is None", applicable=False)


def _significance_check(result: McNemarResult, criteria: PromotionCriteria) -> Check:
    required = f"p < {criteria.alpha:g} and c > b"
    detail = (
        f"McNemar ({result.method}): the challenger is right on {result.c} rows the champion gets wrong (c) "
        f"and wrong on {result.b} rows it gets right (b); p = {result.p_value:.4g}"
    )
    if not criteria.require_significance:
        return Check("significance", True, result.p_value, "not checked", f"not required; {detail}", applicable=False)
    passed = result.p_value < criteria.alpha and result.c > result.b
    if not passed:
        detail += "; the challenger does not make fewer errors" if result.c <= result.b else "; not significant"
    return Check("significance", passed, result.p_value, required, detail)


def _f1_checks(result: BootstrapResult, criteria: PromotionCriteria) -> list[Check]:
    gain = result.observed_difference
    gain_detail = f"F1 challenger {result.challenger_f1:.4f} - champion {result.champion_f1:.4f} = {gain:+.4f}"
    interval = (
        f"{result.confidence:.0%} paired bootstrap interval of the F1 gain: [{result.lower:+.4f}, {result.upper:+.4f}]"
        f" over {result.n_resamples} resamples; challenger better in {result.challenger_better_share:.1%} of them"
    )
    return [
        Check("f1_gain", gain >= criteria.min_f1_gain - _TOLERANCE, gain, f">= {criteria.min_f1_gain:g}", gain_detail),
        Check("f1_gain_interval", result.lower > 0.0, result.lower, "lower bound > 0", interval),
    ]


def _latency_check(criteria: PromotionCriteria, champion: float | None, challenger: float | None) -> Check:
    if criteria.max_latency_ms is None:
        return _not_checked("latency", "max_latency_ms")
    required = f"challenger p50 <= {criteria.max_latency_ms:g} ms"
    if challenger is None:
        return Check("latency", False, None, required, "challenger_latency_ms was not given, and the criteria need it")
    against = "" if champion is None else f" (champion {champion:g} ms)"
    detail = f"challenger p50 latency {challenger:g} ms{against}"
    return Check("latency", challenger <= criteria.max_latency_ms, challenger, required, detail)


def _redteam_check(criteria: PromotionCriteria, champion: float | None, challenger: float | None) -> Check:
    drop = criteria.max_redteam_drop
    if drop is None:
        return _not_checked("redteam", "max_redteam_drop")
    if champion is None or challenger is None:
        missing = " and ".join(
            name
            for name, rate in (("champion_redteam_rate", champion), ("challenger_redteam_rate", challenger))
            if rate is None
        )
        required = f"challenger detection rate >= champion's - {drop:g}"
        return Check("redteam", False, challenger, required, f"{missing} not given, and the criteria need it")
    floor = champion - drop
    detail = f"red-team detection rate: challenger {challenger:.4f}, champion {champion:.4f}"
    return Check(
        "redteam", challenger >= floor - _TOLERANCE, challenger, f">= {floor:.4f} (champion - {drop:g})", detail
    )
