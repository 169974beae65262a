"""Two-sample drift statistics: does the current sample of a feature still look like the reference sample?

Each test takes two 1-D samples (reference, current) and returns a small frozen result: the statistic, its
p-value (None for the distances, which are compared with a threshold instead) and what is needed to read it.
Missing values are dropped per side and counted (numeric: None, NaN, pd.NA and +/-inf, as the reference
profiles do; categorical: None, NaN, pd.NA); a side left empty raises ValueError.

- `ks_test` equals `scipy.stats.ks_2samp(reference, current)` (two-sided, method 'auto': exact while neither
  side has more than 10,000 rows, asymptotic beyond).
- `chi_square_test` equals `scipy.stats.chi2_contingency` of the 2 x k table of category counts, Yates'
  continuity correction included when dof == 1 (two categories), as SciPy applies it by default.
- `psi` and `jensen_shannon` compare binned distributions: numeric values in bins cut at the reference's
  quantiles (10 by default, equal edges merged), categories one bin each over the union of both sides. PSI
  puts `PSI_EPSILON` (1e-4, as Evidently) in place of an empty bin's share before taking the log;
  Jensen-Shannon needs no epsilon and is in base 2, so it lies in [0, 1].
- `wasserstein` equals `scipy.stats.wasserstein_distance`, and carries Evidently's normed form (divided by
  the reference's population standard deviation, or by 0.001 when that is smaller).

The numeric work is sort-based and vectorised: both sides are sorted once and merged in linear time, and
the KS statistic and the Wasserstein distance are both read off the two empirical CDFs at the distinct
merged values, so a million rows a side cost tens of milliseconds. KS p-values for large samples sum the
one-sided Smirnov probability vectorised where SciPy loops over a million terms (see `_kstwo_sf`). The
functions on raw arrays (`ks_test`, `chi_square_test`, `psi`, `jensen_shannon`, `wasserstein`) are thin
wrappers over the ones on prepared samples (`*_cdfs`, `*_counts`; preparation in `samples`), which a caller
running several tests on one feature prepares once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special, stats
from scipy.stats._stats_py import _attempt_exact_2kssamp  # ks_2samp's own exact path: its p-values, no warning

from mlsec.ml.drift.samples import (
    DEFAULT_BINS,
    BinCounts,
    EmpiricalCdfs,
    FloatArray,
    IntArray,
    NumericSample,
    Sides,
    category_counts,
    empirical_cdfs,
    numeric_sample,
    quantile_bins,
)

Correction = Literal["bonferroni", "benjamini-hochberg", "none"]
CORRECTIONS: tuple[Correction, ...] = ("bonferroni", "benjamini-hochberg", "none")

PSI_EPSILON = 1e-4
"""The share an empty bin gets before PSI's log (Evidently's value): ln(0) is undefined."""
WASSERSTEIN_MIN_NORM = 0.001
"""Evidently's floor on the normed Wasserstein divisor, so a constant reference does not divide by zero."""
KS_EXACT_MAX_ROWS = 10_000
"""SciPy's MAX_AUTO_N: ks_2samp's 'auto' method is exact while both sides have at most this many rows."""
_SMIRNOV_VECTOR_MIN_N = 10_000
"""From this effective size on, the one-sided Smirnov probability is summed vectorised instead of by SciPy."""


@dataclass(frozen=True)
class KSResult:
    """Two-sample Kolmogorov-Smirnov: the largest gap between the two empirical CDFs, in [0, 1]."""

    statistic: float
    p_value: float
    method: Literal["exact", "asymptotic"]
    sides: Sides


@dataclass(frozen=True)
class ChiSquareResult:
    """Chi-square test of independence of side and category (a 2 x k contingency table), dof = k - 1."""

    statistic: float
    p_value: float
    dof: int
    yates_correction: bool
    categories: int
    only_in_reference: int
    only_in_current: int
    sides: Sides


@dataclass(frozen=True)
class PSIResult:
    """Population Stability Index: sum over bins of (ref - cur) * ln(ref / cur), shares of each side's rows.

    Rule of thumb in credit scoring: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major one.
    `empty_bins` counts bins where a side had no row and got `epsilon` instead of 0.
    """

    statistic: float
    bins: int
    empty_bins: int
    epsilon: float
    binning: str
    sides: Sides
    p_value: None = None


@dataclass(frozen=True)
class JensenShannonResult:
    """Jensen-Shannon distance in base 2: 0 for equal distributions, 1 for disjoint ones."""

    statistic: float
    bins: int
    binning: str
    sides: Sides
    p_value: None = None


@dataclass(frozen=True)
class WassersteinResult:
    """Wasserstein-1 distance (the area between the CDFs, in the feature's units) and Evidently's normed form.

    `statistic` is the normed distance, `distance / norm` with `norm = max(reference_std, 0.001)`: roughly
    how many reference standard deviations the mass moved on average.
    """

    statistic: float
    distance: float
    reference_std: float
    norm: float
    sides: Sides
    p_value: None = None


def ks_test_cdfs(cdfs: EmpiricalCdfs) -> KSResult:
    """Kolmogorov-Smirnov on prepared CDFs, computed as `scipy.stats.ks_2samp(..., method='auto')` does.

    Exact (SciPy's own lattice-path computation) while neither side has more than 10,000 rows; beyond that,
    or when the exact computation fails numerically, the asymptotic distribution `kstwo` at the effective
    size n1 * n2 / (n1 + n2), rounded, as SciPy does.
    """
    gaps = cdfs.reference_cdf - cdfs.current_cdf
    statistic = max(float(gaps.max()), float(np.clip(-gaps.min(), 0.0, 1.0)))
    n1, n2 = cdfs.reference.rows, cdfs.current.rows
    if max(n1, n2) <= KS_EXACT_MAX_ROWS:
        success, statistic, p_value = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), statistic, "two-sided")
        if success:
            return KSResult(float(statistic), float(np.clip(p_value, 0.0, 1.0)), "exact", cdfs.sides)
    larger, smaller = max(float(n1), float(n2)), min(float(n1), float(n2))
    effective = float(np.round(larger * smaller / (larger + smaller)))
    p_value = float(np.clip(_kstwo_sf(float(statistic), effective), 0.0, 1.0))
    return KSResult(float(statistic), p_value, "asymptotic", cdfs.sides)


def _kstwo_sf(d: float, n: float) -> float:
    """`scipy.stats.kstwo.sf(d, n)`, what ks_2samp's asymptotic method returns, fast for large n.

    Where SciPy's Kolmogorov code (scipy.stats._ksstats._kolmogn) answers with twice the one-sided Smirnov
    probability, `special.smirnov` sums its n terms one by one in C: 0.7 s at n = 500,000 (a million rows a
    side). The same sum, vectorised here, takes a tenth of that and agrees to about 1e-13 relative. Every
    other case (small n, small or huge d) is SciPy's own, and fast.
    """
    t = n * d
    if n <= _SMIRNOV_VECTOR_MIN_N or not 1.0 < t < n - 1:
        return float(stats.kstwo.sf(d, n))
    if d >= 0.5 or 2.2 <= t * d < 370.0:  # _kolmogn's two branches that return 2 * smirnov(n, d)
        return min(1.0, 2.0 * _smirnov_sf(int(n), d))
    return float(stats.kstwo.sf(d, n))


def _smirnov_sf(n: int, d: float) -> float:
    """P(D+_n >= d), Birnbaum and Tingey's sum: d * sum over j <= n(1-d) of C(n, j) p^j (1-p)^(n-j) / p with
    p = d + j/n, each term a binomial probability, which SciPy computes to full precision in any range."""
    j = np.arange(int(np.floor(n * (1.0 - d))) + 1)
    p = d + j / n
    inside = p < 1.0
    return float(d * np.sum(stats.binom.pmf(j[inside], n, p[inside]) / p[inside]))


def wasserstein_cdfs(cdfs: EmpiricalCdfs) -> WassersteinResult:
    """The area between the CDFs, sum of |F_ref - F_cur| times the gap to the next value; normed as Evidently.

    Evidently divides by `max(np.std(reference), 0.001)`: the population standard deviation (ddof 0).
    """
    gaps = np.subtract(cdfs.reference_cdf[:-1], cdfs.current_cdf[:-1])
    distance = float(np.dot(np.abs(gaps, out=gaps), np.diff(cdfs.values)))
    reference_std = float(np.std(cdfs.reference.values))
    norm = max(reference_std, WASSERSTEIN_MIN_NORM)
    return WassersteinResult(distance / norm, distance, reference_std, norm, cdfs.sides)


def chi_square_counts(counts: BinCounts) -> ChiSquareResult:
    """chi2_contingency of the 2 x k table (rows: reference, current): expected = row total * column total / n.

    dof = k - 1; with one category there is nothing to test (statistic 0, p-value 1, as SciPy). With two
    (dof 1) each observed count moves up to 0.5 towards its expected count first: Yates' correction, which
    SciPy applies by default and which makes the test more conservative on small tables.
    """
    observed = np.vstack([counts.reference, counts.current]).astype(np.float64)
    dof = counts.bins - 1
    statistic, p_value = 0.0, 1.0
    if dof > 0:
        expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
        if dof == 1:
            difference = expected - observed
            observed = observed + np.minimum(0.5, np.abs(difference)) * np.sign(difference)
        statistic = float(((observed - expected) ** 2 / expected).sum())
        p_value = float(stats.chi2.sf(statistic, dof))
    return ChiSquareResult(
        statistic,
        p_value,
        dof,
        dof == 1,
        counts.bins,
        counts.only_in_reference,
        counts.only_in_current,
        counts.sides,
    )


def _shares(counts: IntArray) -> FloatArray:
    shares: FloatArray = counts / float(counts.sum())
    return shares


def psi_counts(counts: BinCounts, *, epsilon: float = PSI_EPSILON) -> PSIResult:
    """PSI of binned counts; a bin with no row on a side gets `epsilon` as that side's share (not renormalised)."""
    reference, current = _shares(counts.reference), _shares(counts.current)
    empty = (reference == 0) | (current == 0)
    reference = np.where(reference == 0, epsilon, reference)
    current = np.where(current == 0, epsilon, current)
    statistic = float(np.sum((reference - current) * np.log(reference / current)))
    return PSIResult(statistic, counts.bins, int(np.count_nonzero(empty)), epsilon, counts.binning, counts.sides)


def jensen_shannon_counts(counts: BinCounts) -> JensenShannonResult:
    """`scipy.spatial.distance.jensenshannon(p, q, base=2)` of the two sides' bin shares.

    sqrt((KL(p || m) + KL(q || m)) / 2) with m = (p + q) / 2, in bits: zero shares need no epsilon.
    """
    p, q = _shares(counts.reference), _shares(counts.current)
    middle = (p + q) / 2.0
    divergence = (np.sum(special.rel_entr(p, middle)) + np.sum(special.rel_entr(q, middle))) / np.log(2.0)
    return JensenShannonResult(float(np.sqrt(divergence / 2.0)), counts.bins, counts.binning, counts.sides)


def _numeric_pair(reference: Any, current: Any) -> tuple[NumericSample, NumericSample]:
    return numeric_sample(reference, name="reference"), numeric_sample(current, name="current")


def _binned(reference: Any, current: Any, categorical: bool, bins: int) -> BinCounts:
    if categorical:
        return category_counts(reference, current)
    return quantile_bins(*_numeric_pair(reference, current), bins=bins)


def ks_test(reference: Any, current: Any) -> KSResult:
    """Two-sample Kolmogorov-Smirnov test of numeric samples; equals `scipy.stats.ks_2samp(reference, current)`."""
    return ks_test_cdfs(empirical_cdfs(*_numeric_pair(reference, current)))


def chi_square_test(reference: Any, current: Any) -> ChiSquareResult:
    """Chi-square contingency test of categorical samples; equals `scipy.stats.chi2_contingency(table)`."""
    return chi_square_counts(category_counts(reference, current))


def psi(
    reference: Any, current: Any, *, categorical: bool = False, bins: int = DEFAULT_BINS, epsilon: float = PSI_EPSILON
) -> PSIResult:
    """Population Stability Index; numeric values binned at the reference's quantiles, categories one bin each."""
    return psi_counts(_binned(reference, current, categorical, bins), epsilon=epsilon)


def jensen_shannon(
    reference: Any, current: Any, *, categorical: bool = False, bins: int = DEFAULT_BINS
) -> JensenShannonResult:
    """Jensen-Shannon distance (base 2), binned as `psi` bins."""
    return jensen_shannon_counts(_binned(reference, current, categorical, bins))


def wasserstein(reference: Any, current: Any) -> WassersteinResult:
    """Wasserstein-1 distance, equal to `scipy.stats.wasserstein_distance`, with Evidently's normed form."""
    return wasserstein_cdfs(empirical_cdfs(*_numeric_pair(reference, current)))


def adjust_p_values(p_values: Any, method: Correction) -> FloatArray:
    """p-values adjusted for testing several hypotheses at once, in the order given.

    Bonferroni: min(1, p * m), which bounds the chance of any false alarm among m tests. Benjamini-Hochberg:
    the step-up adjustment min over j >= i of p_(j) * m / j (p sorted ascending), capped at 1, which bounds
    the expected share of false alarms among the alarms: less strict, so it misses fewer real shifts when
    many features are tested. Comparing adjusted p-values with alpha is the same as running each procedure.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}; got {method!r}")
    if method == "none" or p.size == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * p.size, 1.0)
    descending = np.argsort(p, kind="stable")[::-1]
    scaled = p[descending] * p.size / np.arange(p.size, 0, -1)
    adjusted = np.empty_like(p)
    adjusted[descending] = np.minimum(np.minimum.accumulate(scaled), 1.0)
    return adjusted
