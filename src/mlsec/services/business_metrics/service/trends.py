"""Trends, change points and correlation of KPI series: the statistics (pure, SciPy) and the routes' logic.

A KPI series is a list of (bucket start, value or None); a None is a bucket with nothing to measure (no
prediction, no probe) and is left out, never read as zero.

- **Trend**: ordinary least squares of value on time in hours (`scipy.stats.linregress`); the 95 % interval
  of the slope is slope +- t(0.975, n - 2) x its standard error, the p-value the two-sided test of slope 0.
  The direction is up or down only when p < 0.05; otherwise flat.
- **Change points**: binary segmentation. In a segment, the split that removes the most squared error (the
  largest n1 n2 / n (mean1 - mean2)^2) is tested with Welch's t-test, its p-value multiplied by the number of
  splits tried (Bonferroni: the best of many splits looks significant by chance); a split with a corrected
  p < 0.05 is kept and both halves are searched again. Each side keeps at least `min_size` points.
- **Correlation**: Pearson's r and Spearman's rho with their p-values (`scipy.stats.pearsonr`, `spearmanr`)
  on the buckets where both KPIs have a value; at least 3 such pairs. A constant series has no correlation
  (r and p are None rather than SciPy's NaN and warning).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from scipy import stats
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import InvalidInputError
from mlsec.services.business_metrics.service import kpis
from mlsec.services.business_metrics.service.costs import Prices
from mlsec.services.business_metrics.service.period import Period, Resolution

Series = Sequence[tuple[datetime, float | None]]
Direction = Literal["up", "down", "flat"]
CONFIDENCE = 0.95
ALPHA = 1.0 - CONFIDENCE
MIN_SEGMENT = 3
MAX_CHANGE_POINTS = 10


@dataclass(frozen=True)
class TrendFit:
    """The fitted slope per hour, its confidence interval, and the test of "no trend"."""

    slope_per_hour: float
    ci_low: float
    ci_high: float
    p_value: float | None
    direction: Direction
    points: int
    confidence: float = CONFIDENCE


@dataclass(frozen=True)
class ChangePoint:
    """Where the mean changes: the first point of the new segment, the two means around it, the test."""

    index: int
    at: datetime
    mean_before: float
    mean_after: float
    p_value: float


@dataclass(frozen=True)
class Coefficient:
    """One correlation coefficient and its two-sided p-value; None when a series is constant."""

    value: float | None
    p_value: float | None


@dataclass(frozen=True)
class Correlation:
    n: int
    pearson: Coefficient
    spearman: Coefficient


class TooFewPointsError(ValueError):
    """Fewer points than a statistic needs; the message says how many there were and how many it needs."""


def present(series: Series) -> tuple[list[datetime], np.ndarray[Any, np.dtype[np.float64]]]:
    """The points that have a value, in time order."""
    kept = sorted((at, float(value)) for at, value in series if value is not None and math.isfinite(value))
    return [at for at, _ in kept], np.asarray([value for _, value in kept], dtype=np.float64)


def fit_trend(series: Series, *, confidence: float = CONFIDENCE) -> TrendFit | None:
    """Slope per hour with its interval and p-value; None with fewer than 3 points (no interval exists)."""
    times, values = present(series)
    if len(times) < 3:
        return None
    hours = np.asarray([(at - times[0]).total_seconds() / 3600.0 for at in times], dtype=np.float64)
    if np.ptp(values) == 0.0:
        return TrendFit(0.0, 0.0, 0.0, None, "flat", len(times), confidence)
    fit = stats.linregress(hours, values)
    slope, stderr, p_value = float(fit.slope), float(fit.stderr), float(fit.pvalue)
    margin = float(stats.t.ppf(0.5 + confidence / 2.0, len(times) - 2)) * stderr
    significant = p_value < 1.0 - confidence
    direction: Direction = "flat" if not significant or slope == 0.0 else ("up" if slope > 0 else "down")
    return TrendFit(slope, slope - margin, slope + margin, p_value, direction, len(times), confidence)


def welch_p_value(left: np.ndarray[Any, Any], right: np.ndarray[Any, Any]) -> float:
    """Two-sided Welch t-test of equal means; two constant segments differ for sure or not at all."""
    if np.var(left) == 0.0 and np.var(right) == 0.0:
        return 0.0 if float(np.mean(left)) != float(np.mean(right)) else 1.0
    return float(stats.ttest_ind(left, right, equal_var=False).pvalue)


def best_split(values: np.ndarray[Any, Any], min_size: int) -> tuple[int, float] | None:
    """The split (index of the first point after it) that removes the most squared error, and its corrected p."""
    n = len(values)
    candidates = range(min_size, n - min_size + 1)
    if len(candidates) == 0:
        return None
    cumulative = np.cumsum(values)
    total = cumulative[-1]
    sizes = np.asarray(candidates, dtype=np.float64)
    left_means = cumulative[sizes.astype(int) - 1] / sizes
    right_means = (total - cumulative[sizes.astype(int) - 1]) / (n - sizes)
    gain = sizes * (n - sizes) / n * (left_means - right_means) ** 2
    split = int(sizes[int(np.argmax(gain))])
    p_value = welch_p_value(values[:split], values[split:])
    return split, min(1.0, p_value * len(candidates))


def find_change_points(
    series: Series, *, alpha: float = ALPHA, min_size: int = MIN_SEGMENT, limit: int = MAX_CHANGE_POINTS
) -> list[ChangePoint]:
    """Binary segmentation with a corrected Welch test at each split; the means are those of the final segments."""
    times, values = present(series)
    found: dict[int, float] = {}
    pending = [(0, len(values))]
    while pending and len(found) < limit:
        low, high = pending.pop(0)
        split = best_split(values[low:high], min_size)
        if split is None or split[1] >= alpha:
            continue
        found[low + split[0]] = split[1]
        pending += [(low, low + split[0]), (low + split[0], high)]
    bounds = [0, *sorted(found), len(values)]
    return [
        ChangePoint(
            index=bounds[i],
            at=times[bounds[i]],
            mean_before=float(np.mean(values[bounds[i - 1] : bounds[i]])),
            mean_after=float(np.mean(values[bounds[i] : bounds[i + 1]])),
            p_value=found[bounds[i]],
        )
        for i in range(1, len(bounds) - 1)
    ]


def pair(first: Series, second: Series) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The two KPIs' values at the bucket starts where both have one."""
    other = {at: value for at, value in second if value is not None and math.isfinite(value)}
    both = sorted(
        (at, float(value), float(other[at]))
        for at, value in first
        if value is not None and math.isfinite(value) and at in other
    )
    return np.asarray([a for _, a, _ in both], dtype=np.float64), np.asarray([b for _, _, b in both], dtype=np.float64)


def correlate(first: Series, second: Series) -> Correlation:
    """Pearson and Spearman on the paired points; TooFewPointsError below 3 pairs."""
    a, b = pair(first, second)
    if len(a) < 3:
        raise TooFewPointsError(f"{len(a)} buckets have a value of both KPIs; a correlation needs at least 3")
    if np.ptp(a) == 0.0 or np.ptp(b) == 0.0:
        return Correlation(len(a), Coefficient(None, None), Coefficient(None, None))
    pearson = stats.pearsonr(a, b)
    spearman = stats.spearmanr(a, b)
    return Correlation(
        len(a),
        Coefficient(float(pearson.statistic), float(pearson.pvalue)),
        Coefficient(_finite(spearman.statistic), _finite(spearman.pvalue)),
    )


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class TrendAnswer:
    """A KPI's series over the period, its trend (None below 3 points) and its change points."""

    kpi: str
    series: list[tuple[datetime, float | None]]
    trend: TrendFit | None
    change_points: list[ChangePoint]


@dataclass(frozen=True)
class PairAnswer:
    a: str
    b: str
    correlation: Correlation


async def get_trend(
    session: AsyncSession,
    kpi: str,
    period: Period,
    resolution: Resolution,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    service: str | None = None,
    prices: Prices,
) -> TrendAnswer:
    """The KPI per bucket (kpis.kpi_series), its trend and its change points."""
    points = await kpis.kpi_series(
        session,
        kpi,
        period,
        resolution,
        model_name=model_name,
        model_version=model_version,
        service=service,
        prices=prices,
    )
    return TrendAnswer(kpi, points, fit_trend(points), find_change_points(points))


async def get_correlation(
    session: AsyncSession,
    names: Sequence[str],
    period: Period,
    resolution: Resolution,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    service: str | None = None,
    prices: Prices,
) -> list[PairAnswer]:
    """Every pair of the KPIs, on the buckets where both have a value; 422 when a pair has fewer than 3."""
    unique = list(dict.fromkeys(kpis.check_kpi(name) for name in names))
    if len(unique) < 2:
        raise InvalidInputError("a correlation needs at least two different KPIs (repeat kpi=...)")
    series = {
        name: await kpis.kpi_series(
            session,
            name,
            period,
            resolution,
            model_name=model_name,
            model_version=model_version,
            service=service,
            prices=prices,
        )
        for name in unique
    }
    answers = []
    for a, b in itertools.combinations(unique, 2):
        try:
            answers.append(PairAnswer(a, b, correlate(series[a], series[b])))
        except TooFewPointsError as exc:
            raise InvalidInputError(
                f"{a} and {b}: {exc} (a longer period or a finer resolution gives more buckets)",
                details={"a": a, "b": b, "resolution": resolution},
            ) from exc
    return answers
