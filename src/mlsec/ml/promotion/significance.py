"""Paired significance statistics of two models on the same held-out rows: McNemar's test, paired bootstrap.

Both models label the same rows, so what matters is where they disagree, not two accuracies measured with
their own noise. McNemar's test asks whether the challenger's errors are fewer than the champion's beyond
chance; a paired bootstrap gives an interval for the F1 gain. Apart from the decision, which only reads
their results, so each test can be checked on its own against hand computations and SciPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import binom, chi2

from mlsec.ml.promotion.argument_checks import _is_count, _is_number

Labels = Sequence[Any] | np.ndarray[Any, Any]


EXACT_BELOW = 25  # McNemar: exact binomial test while b + c is below this, chi-square beyond


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
