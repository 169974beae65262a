"""Champion against challenger: paired tests on the same held-out data, and the promotion decision.

Both models label the same held-out rows, so the comparison is paired: what matters is where they
disagree, not two accuracies measured with their own noise. McNemar's test asks whether the
challenger's errors are fewer than the champion's beyond chance; a paired bootstrap gives an interval
for the F1 gain, the metric the detector is tuned for. A decision lists every check with the number
it saw and the number it needed, because the decision's `to_dict()` is stored as the evidence for
promoting (or keeping) a model and must be readable on its own later.

Labels are compared as strings, so held-out labels stored as the integers 0/1 and predictions given
as "0"/"1" are the same classes. F1 follows scikit-learn's zero_division=0 convention: when a model
predicts no positive and there is no true positive to find (2TP + FP + FN = 0), its F1 is 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import binom, chi2

Labels = Sequence[Any] | np.ndarray[Any, Any]

EXACT_BELOW = 25  # McNemar: exact binomial test while b + c is below this, chi-square beyond
_TOLERANCE = 1e-12  # float slack when comparing an observed gain or rate with a required one
_RESAMPLE_CHUNK = 100_000  # bootstrap resamples drawn at a time: 800 bytes each, so 80 MB at most

# Joint cells of a row for the bootstrap: bit 2 = truly positive, bit 1 = champion says positive,
# bit 0 = challenger says positive. Each column below selects the cells that count for one number.
_CELLS = np.arange(8)
_TRUE, _CHAMPION, _CHALLENGER = (_CELLS & 4) > 0, (_CELLS & 2) > 0, (_CELLS & 1) > 0
_COUNTERS = np.stack(
    [
        _TRUE & _CHAMPION,  # champion TP
        ~_TRUE & _CHAMPION,  # champion FP
        _TRUE & ~_CHAMPION,  # champion FN
        _TRUE & _CHALLENGER,  # challenger TP
        ~_TRUE & _CHALLENGER,  # challenger FP
        _TRUE & ~_CHALLENGER,  # challenger FN
    ],
    axis=1,
).astype(np.int64)


def _is_number(value: object) -> bool:
    """A finite real number (numpy scalars included), and not a bool."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(value)


def _is_count(value: object) -> bool:
    """A positive integer (numpy integers included), and not a bool."""
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and int(value) >= 1


def _labels(values: Labels, name: str) -> np.ndarray[Any, np.dtype[np.str_]]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array.astype(str)


def _paired(y_true: Labels, pred_champion: Labels, pred_challenger: Labels) -> tuple[np.ndarray[Any, Any], ...]:
    """The three label arrays as strings; ValueError when they are empty or differ in length."""
    arrays = (
        _labels(y_true, "y_true"),
        _labels(pred_champion, "pred_champion"),
        _labels(pred_challenger, "pred_challenger"),
    )
    lengths = [array.shape[0] for array in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"y_true, pred_champion and pred_challenger differ in length: {lengths}")
    if lengths[0] == 0:
        raise ValueError("no held-out rows: y_true is empty")
    return arrays


def _f1(tp: Any, fp: Any, fn: Any) -> Any:
    """F1 = 2TP / (2TP + FP + FN), elementwise; 0 where the denominator is 0 (sklearn's zero_division=0)."""
    numerator = 2.0 * np.asarray(tp, dtype=np.float64)
    denominator = numerator + fp + fn
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


@dataclass(frozen=True)
class McNemarResult:
    """b: rows the champion got right and the challenger wrong; c: the reverse; n: all rows.

    `statistic` is min(b, c) for the exact test and (|b - c| - 1)^2 / (b + c) for the chi-square one.
    """

    b: int
    c: int
    n: int
    statistic: float
    p_value: float
    method: Literal["exact", "chi2-corrected"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mcnemar_from_counts(b: int, c: int, n: int | None = None) -> McNemarResult:
    """McNemar's test from the discordant counts; n (all rows) defaults to b + c.

    Below EXACT_BELOW discordant pairs the chi-square approximation is poor, so the exact two-sided
    binomial test is used: p = min(1, 2 * P(X <= min(b, c))) with X ~ Binomial(b + c, 1/2). Beyond,
    the chi-square statistic with Edwards' continuity correction, one degree of freedom. No
    discordant pair at all is no evidence either way: statistic 0, p-value 1.
    """
    b, c = int(b), int(c)
    discordant = b + c
    total = discordant if n is None else int(n)
    if b < 0 or c < 0 or total < discordant:
        raise ValueError(f"need 0 <= b, 0 <= c and b + c <= n, got b={b}, c={c}, n={total}")
    if discordant == 0:
        return McNemarResult(b, c, total, 0.0, 1.0, "exact")
    if discordant < EXACT_BELOW:
        smaller = min(b, c)
        p_value = min(1.0, 2.0 * float(binom.cdf(smaller, discordant, 0.5)))
        return McNemarResult(b, c, total, float(smaller), p_value, "exact")
    statistic = (abs(b - c) - 1) ** 2 / discordant
    return McNemarResult(b, c, total, float(statistic), float(chi2.sf(statistic, 1)), "chi2-corrected")


def mcnemar(y_true: Labels, pred_champion: Labels, pred_challenger: Labels) -> McNemarResult:
    """McNemar's test of the two models' paired errors on the same rows (see mcnemar_from_counts)."""
    truth, champion, challenger = _paired(y_true, pred_champion, pred_challenger)
    champion_right, challenger_right = champion == truth, challenger == truth
    b = int(np.count_nonzero(champion_right & ~challenger_right))
    c = int(np.count_nonzero(~champion_right & challenger_right))
    return mcnemar_from_counts(b, c, truth.shape[0])


@dataclass(frozen=True)
class BootstrapResult:
    """Percentile interval of F1(challenger) - F1(champion) over paired bootstrap resamples."""

    observed_difference: float
    lower: float
    upper: float
    confidence: float
    n_resamples: int
    challenger_better_share: float  # share of resamples where the challenger's F1 is strictly higher
    champion_f1: float
    challenger_f1: float
    positive_label: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_f1_difference(
    y_true: Labels,
    pred_champion: Labels,
    pred_challenger: Labels,
    *,
    positive_label: str = "1",
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """Paired bootstrap of the F1 gain (positive class; every other label counts as negative).

    A paired resample draws n rows with replacement and scores both models on the same rows. F1 only
    depends on how many resampled rows fall in each of the 8 joint cells (truly positive?, champion
    says positive?, challenger says positive?), and the cell counts of n rows drawn uniformly with
    replacement are Multinomial(n, cell shares): drawing those counts directly is the same bootstrap,
    exactly, at a cost of 8 numbers per resample instead of n indices. TP/FP/FN then come from the
    counts by a matrix product; the resamples are drawn in chunks to bound memory.
    """
    if not _is_count(n_resamples):
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    n_resamples = int(n_resamples)
    if not (_is_number(confidence) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    truth, champion, challenger = _paired(y_true, pred_champion, pred_challenger)
    positive = str(positive_label)
    cells = (truth == positive) * 4 + (champion == positive) * 2 + (challenger == positive) * 1
    counts = np.bincount(cells, minlength=8)
    observed = counts @ _COUNTERS
    champion_f1, challenger_f1 = float(_f1(*observed[:3])), float(_f1(*observed[3:]))
    rng = np.random.default_rng(seed)
    shares = counts / counts.sum()
    differences = np.empty(n_resamples, dtype=np.float64)
    for start in range(0, n_resamples, _RESAMPLE_CHUNK):
        size = min(_RESAMPLE_CHUNK, n_resamples - start)
        tallies = rng.multinomial(truth.shape[0], shares, size=size) @ _COUNTERS
        differences[start : start + size] = _f1(*tallies[:, 3:].T) - _f1(*tallies[:, :3].T)
    tail = (1.0 - confidence) / 2.0
    lower, upper = np.quantile(differences, [tail, 1.0 - tail])
    return BootstrapResult(
        observed_difference=challenger_f1 - champion_f1,
        lower=float(lower),
        upper=float(upper),
        confidence=float(confidence),
        n_resamples=n_resamples,
        challenger_better_share=float(np.mean(differences > 0)),
        champion_f1=champion_f1,
        challenger_f1=challenger_f1,
        positive_label=positive,
        seed=int(seed),
    )


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


@dataclass(frozen=True)
class ModelMetrics:
    """Held-out metrics of one model, for the positive class, with the confusion counts behind them."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], positive: str) -> ModelMetrics:
        actual, flagged = truth == positive, predicted == positive
        tp, fp = int(np.count_nonzero(actual & flagged)), int(np.count_nonzero(~actual & flagged))
        fn, tn = int(np.count_nonzero(actual & ~flagged)), int(np.count_nonzero(~actual & ~flagged))
        precision, recall = (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)
        accuracy = (tp + tn) / truth.shape[0]
        return cls(accuracy, precision, recall, float(_f1(tp, fp, fn)), tp, fp, fn, tn)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
) -> PromotionDecision:
    """Decide whether the challenger replaces the champion, on paired held-out predictions.

    Checks, in order: significance (McNemar), f1_gain (observed), f1_gain_interval (bootstrap lower
    bound > 0), latency and redteam. A check the criteria require whose input was not given fails and
    says so. ValueError for empty or mismatched inputs, labels outside the two classes, and latencies
    or rates that are not finite, non-negative numbers (rates at most 1).
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
