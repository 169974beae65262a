"""The two samples of a feature, ready for the drift statistics: converted, cleaned and laid out once.

Numeric values are converted once to float64, missing ones (None, NaN, pd.NA, +/-inf, as the reference
profiles do) dropped and counted, and the rest sorted: every numeric statistic works on sorted samples.
Categorical values are factorised once over both sides into aligned counts per category (None, NaN and
pd.NA missing). A side left empty raises ValueError naming it, which the detector names by feature.

Numeric bins for PSI and Jensen-Shannon are cut at the reference's quantiles; a discrete numeric feature
can also be counted per value, as categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

FloatArray: TypeAlias = np.ndarray[Any, np.dtype[np.float64]]
IntArray: TypeAlias = np.ndarray[Any, np.dtype[np.int64]]

DEFAULT_BINS = 10
_SHOWN_CHARS = 40


@dataclass(frozen=True)
class Sides:
    """Rows each side contributed after dropping missing values, and how many missing values were dropped."""

    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int


@dataclass(frozen=True)
class NumericSample:
    """One numeric side ready for testing: its finite values sorted ascending, and the missing ones counted."""

    values: FloatArray
    missing: int

    @property
    def rows(self) -> int:
        return int(self.values.size)

    def distinct_up_to(self, limit: int) -> int | None:
        """How many different values, when at most `limit` (else None): a binary search per value, from one
        value to the next in the sorted sample, so a continuous feature costs `limit` + 1 searches, not a pass."""
        count, position = 0, 0
        while position < self.values.size:
            count += 1
            if count > limit:
                return None
            position = int(np.searchsorted(self.values, self.values[position], side="right"))
        return count


@dataclass(frozen=True)
class EmpiricalCdfs:
    """Both sides' empirical CDFs (share of rows <= x) at every distinct value x of the two samples.

    Both step functions only change at these values, so the largest gap between them (KS) and the area
    between them (Wasserstein) are exact when read off here.
    """

    reference: NumericSample
    current: NumericSample
    values: FloatArray
    reference_cdf: FloatArray
    current_cdf: FloatArray

    @property
    def sides(self) -> Sides:
        return sides_of(self.reference, self.current)


@dataclass(frozen=True)
class BinCounts:
    """Rows per bin on each side, aligned bin by bin; `binning` says what a bin is."""

    reference: IntArray
    current: IntArray
    sides: Sides
    binning: Literal["categories", "values", "reference quantiles"]

    @property
    def bins(self) -> int:
        return int(self.reference.size)

    @property
    def only_in_reference(self) -> int:
        return int(np.count_nonzero((self.reference > 0) & (self.current == 0)))

    @property
    def only_in_current(self) -> int:
        return int(np.count_nonzero((self.current > 0) & (self.reference == 0)))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _one_dimensional(values: Any, name: str) -> np.ndarray[Any, Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _objects_as_float(array: np.ndarray[Any, Any], name: str) -> FloatArray:
    """Object values (a list with None, a nullable pandas column): missing ones to NaN, text refused.

    NumPy would read "1.5" as 1.5; a string in a numeric feature is a data error worth reporting instead.
    """
    missing = np.asarray(pd.isna(array), dtype=bool)
    present = array[~missing]
    text = next((value for value in present if isinstance(value, str | bytes)), None)
    if text is not None:
        raise ValueError(f"{name} holds a non-numeric value {_shown(text)}")
    out = np.full(array.size, np.nan)
    try:
        out[~missing] = present.astype(np.float64)
    except (TypeError, ValueError):
        bad = next(value for value in present if not _is_number(value))
        raise ValueError(f"{name} holds a non-numeric value {_shown(bad)}") from None
    return out


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def as_float(values: Any, *, name: str = "values") -> FloatArray:
    """The values as one float64 array (no copy when they already are one); None and pd.NA become NaN.

    Booleans and integers are numbers; strings, dates and other objects raise ValueError naming `name`.
    """
    array = _one_dimensional(values, name)
    if array.dtype.kind in "biuf":
        return array.astype(np.float64, copy=False)
    if array.dtype.kind == "O":
        return _objects_as_float(array, name)
    example = f" such as {_shown(array[0].item())}" if array.size else ""
    raise ValueError(f"{name} holds non-numeric values{example} (dtype {array.dtype})")


def numeric_sample(values: Any, *, name: str = "values") -> NumericSample:
    """Convert once to float64, drop missing values (NaN, None, +/-inf), sort; ValueError when none is left."""
    array = as_float(values, name=name)
    finite = np.isfinite(array)
    kept = np.sort(array) if finite.all() else np.sort(array[finite])
    if kept.size == 0:
        raise ValueError(f"{name} has no value left after dropping {array.size} missing (None, NaN or infinite)")
    return NumericSample(kept, int(array.size - kept.size))


def sides_of(reference: NumericSample, current: NumericSample) -> Sides:
    return Sides(reference.rows, current.rows, reference.missing, current.missing)


def empirical_cdfs(reference: NumericSample, current: NumericSample) -> EmpiricalCdfs:
    """Merge the two sorted samples and count, at each distinct value, the rows of each side at or below it.

    A stable argsort of the two sorted runs laid end to end is a linear merge (timsort finds the two runs)
    that says where each value came from; a running count of reference rows along the merged order, taken at
    the last position of each run of equal values, is the reference's count <= that value, and the position
    minus it the current's. ks_2samp and wasserstein_distance get the same counts by a `searchsorted` of
    every value into each side, in several times the time.
    """
    ref, cur = reference.values, current.values
    total = ref.size + cur.size
    both = np.concatenate([ref, cur])
    order = np.argsort(both, kind="stable")
    merged = both[order]
    # Counts as float64 (exact below 2**53) so the shares are computed in place: every 16 MB array fewer
    # at a million rows a side is a page-faulted allocation fewer.
    reference_le = np.cumsum(order < ref.size, dtype=np.float64)
    del both, order
    run_ends = np.empty(total, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=run_ends[:-1])
    run_ends[-1] = True
    if run_ends.all():  # no tie (continuous data): every position ends its run, no gather needed
        positions = np.arange(1.0, total + 1.0)
    else:
        ends = np.flatnonzero(run_ends)
        merged, reference_le, positions = merged[ends], reference_le[ends], ends + 1.0
    current_le = np.subtract(positions, reference_le, out=positions)
    reference_le /= ref.size
    current_le /= cur.size
    return EmpiricalCdfs(reference, current, merged, reference_le, current_le)


def _as_objects(values: Any, name: str) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Categories as Python objects, built as such: NumPy would make ["a", nan] an array of text, NaN as 'nan'."""
    array: np.ndarray[Any, np.dtype[np.object_]] = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def category_counts(reference: Any, current: Any, *, names: tuple[str, str] = ("reference", "current")) -> BinCounts:
    """Rows per category over the union of both sides' categories; None, NaN and pd.NA are missing.

    Categories compare as Python values do (1 and 1.0 are one category, 1 and "1" two).
    """
    ref, cur = _as_objects(reference, names[0]), _as_objects(current, names[1])
    codes, uniques = pd.factorize(np.concatenate([ref, cur]), use_na_sentinel=True)
    counts = []
    for side, name in ((codes[: ref.size], names[0]), (codes[ref.size :], names[1])):
        present = side[side >= 0]
        if present.size == 0:
            raise ValueError(f"{name} has no value left after dropping {side.size} missing (None or NaN)")
        counts.append(np.bincount(present, minlength=len(uniques)).astype(np.int64))
    sides = Sides(
        int(counts[0].sum()), int(counts[1].sum()), ref.size - int(counts[0].sum()), cur.size - int(counts[1].sum())
    )
    return BinCounts(counts[0], counts[1], sides, "categories")


def _counts_at(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """Rows in the bins (-inf, e1), [e1, e2), ..., [ek, inf) of sorted values: k + 1 binary searches."""
    below = np.searchsorted(sorted_values, edges, side="left")
    return np.diff(np.concatenate(([0], below, [sorted_values.size]))).astype(np.int64)


def quantile_bins(reference: NumericSample, current: NumericSample, *, bins: int = DEFAULT_BINS) -> BinCounts:
    """Both sides counted in bins cut at the reference's quantiles 1/bins, ..., (bins-1)/bins.

    Equal edges (a value repeated over several quantiles) are merged, so there may be fewer bins. The outer
    bins are open-ended, so current values beyond the reference's range land in the first or last bin, and
    each inner bin holds [edge, next edge).
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    edges = np.unique(np.quantile(reference.values, np.arange(1, bins) / bins))
    sides = sides_of(reference, current)
    return BinCounts(
        _counts_at(reference.values, edges), _counts_at(current.values, edges), sides, "reference quantiles"
    )


def value_counts(reference: NumericSample, current: NumericSample) -> BinCounts:
    """A discrete numeric feature counted per value over the union of both sides' values (one bin each)."""
    values = np.union1d(np.unique(reference.values), np.unique(current.values))

    def count(sample: NumericSample) -> IntArray:
        upper = np.searchsorted(sample.values, values, side="right")
        lower = np.searchsorted(sample.values, values, side="left")
        return (upper - lower).astype(np.int64)

    return BinCounts(count(reference), count(current), sides_of(reference, current), "values")
