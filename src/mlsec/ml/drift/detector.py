"""`detect_drift`: compare a current dataset with its reference, feature by feature, and decide.

Which test runs on a feature comes from, in order: the feature's override, the call's `tests`, else the
automatic choice, which follows Evidently's data-drift preset so its verdicts read the same: p-value tests
(Kolmogorov-Smirnov, chi-square) on small references, distances against a threshold (normed Wasserstein,
Jensen-Shannon) on large ones, because with a million rows a p-value test calls every negligible shift
drift. Unlike Evidently the p-values of one report are corrected for testing many features at once.

Each column is converted once to float64 and sorted once (numeric) or factorised once (categorical), and
the tests of a feature share that work; features run in threads (NumPy releases the GIL while it sorts and
searches), so a million rows by twenty columns takes a second or two on two cores.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias, TypeVar

from mlsec.ml.drift.config import (
    DEFAULT_CONFIG,
    FITS,
    P_VALUE_TESTS,
    DriftConfig,
    Kind,
    Severity,
    TestName,
    known_tests,
)
from mlsec.ml.drift.report import Detail, DriftReport, DriftTestResult, FeatureDrift
from mlsec.ml.drift.samples import (
    BinCounts,
    EmpiricalCdfs,
    NumericSample,
    Sides,
    category_counts,
    empirical_cdfs,
    numeric_sample,
    quantile_bins,
    value_counts,
)
from mlsec.ml.drift.statistics import (
    ChiSquareResult,
    JensenShannonResult,
    KSResult,
    PSIResult,
    WassersteinResult,
    adjust_p_values,
    chi_square_counts,
    jensen_shannon_counts,
    ks_test_cdfs,
    psi_counts,
    wasserstein_cdfs,
)

Statistic: TypeAlias = KSResult | ChiSquareResult | PSIResult | JensenShannonResult | WassersteinResult
_T = TypeVar("_T")
_R = TypeVar("_R")

PARALLEL_MIN_ROWS = 200_000
"""Below this many rows in all (both sides, all features) threads cost more than they save."""
TEST_LABELS: Mapping[TestName, str] = {
    "ks": "Kolmogorov-Smirnov",
    "chi2": "chi-square",
    "psi": "PSI",
    "jensen_shannon": "Jensen-Shannon",
    "wasserstein": "normed Wasserstein",
}
CORRECTION_LABELS = {"bonferroni": "Bonferroni", "benjamini-hochberg": "Benjamini-Hochberg"}


@dataclass(frozen=True)
class _Plan:
    """A feature, its kind, and its tests when they are set (None: the automatic choice, made on its data)."""

    feature: str
    kind: Kind
    tests: tuple[TestName, ...] | None
    source: str


@dataclass(frozen=True)
class _Measured:
    """A feature's statistics before any decision: decisions need every p-value of the report first."""

    feature: str
    kind: Kind
    sides: Sides
    results: tuple[tuple[TestName, Statistic], ...]
    reason: str


class _NumericFeature:
    """One numeric feature's two sorted samples, and what its tests share, each computed at most once."""

    def __init__(self, reference: NumericSample, current: NumericSample, bins: int) -> None:
        self.reference, self.current, self.bins = reference, current, bins

    @cached_property
    def cdfs(self) -> EmpiricalCdfs:
        return empirical_cdfs(self.reference, self.current)

    @cached_property
    def per_quantile(self) -> BinCounts:
        return quantile_bins(self.reference, self.current, bins=self.bins)

    @cached_property
    def per_value(self) -> BinCounts:
        return value_counts(self.reference, self.current)

    def distinct_values(self, limit: int) -> int | None:
        """How many distinct values both sides have together, when at most `limit`; else None."""
        if self.reference.distinct_up_to(limit) is None or self.current.distinct_up_to(limit) is None:
            return None
        distinct = self.per_value.bins
        return distinct if distinct <= limit else None

    def run(self, test: TestName, as_categories: bool) -> Statistic:
        if test == "ks":
            return ks_test_cdfs(self.cdfs)
        if test == "wasserstein":
            return wasserstein_cdfs(self.cdfs)
        binned = self.per_value if as_categories else self.per_quantile
        if test == "psi":
            return psi_counts(binned)
        if test == "jensen_shannon":
            return jensen_shannon_counts(binned)
        return chi_square_counts(self.per_value)  # chi2: planned on a numeric feature only as categories


def _run_categorical(test: TestName, counts: BinCounts) -> Statistic:
    if test == "chi2":
        return chi_square_counts(counts)
    if test == "psi":
        return psi_counts(counts)
    return jensen_shannon_counts(counts)  # the only other test that fits categories (checked when planned)


def _feature_names(reference: Mapping[str, Any], current: Mapping[str, Any], categorical: Collection[str]) -> list[str]:
    """The reference's feature names, after checking both sides name the same features."""
    names = list(reference)
    if not names:
        raise ValueError("reference has no feature to compare")
    not_text = [name for name in names if not isinstance(name, str)]
    if not_text:
        raise ValueError(f"feature names must be strings, got {not_text[0]!r}")
    missing = [name for name in names if name not in current]
    if missing:
        raise ValueError(f"features missing from current: {', '.join(map(repr, missing))}")
    extra = [name for name in current if name not in reference]
    if extra:
        raise ValueError(f"features in current but not in reference: {', '.join(map(repr, extra))}")
    if isinstance(categorical, str):
        raise ValueError(f"categorical must be a collection of feature names, got the string {categorical!r}")
    unknown = [name for name in categorical if name not in reference]
    if unknown:
        raise ValueError(f"categorical names features not in the data: {', '.join(map(repr, unknown))}")
    return names


def _plan(feature: str, kind: Kind, given: tuple[TestName, ...] | None, config: DriftConfig) -> _Plan:
    """The feature's tests (its override's, else the call's) checked against its kind; None means automatic."""
    own = config.tests_for(feature)
    tests, source = (own, "set by the feature's override") if own is not None else (given, "given by the call")
    for test in tests or ():
        if kind not in FITS[test]:
            takes = [name for name, kinds in FITS.items() if kind in kinds]
            raise ValueError(
                f"test {test!r} ({source}) does not fit {kind} feature {feature!r}: {kind} features take "
                f"{', '.join(takes)}; set per-feature tests with DriftConfig.feature_overrides"
            )
    return _Plan(feature, kind, tests, f"tests {source}" if tests is not None else "")


def _auto_numeric(feature: _NumericFeature, config: DriftConfig) -> tuple[TestName, str, bool]:
    """Evidently's choice for a numeric feature: (test, reason, whether its values are tested as categories)."""
    rows, cutoff = feature.reference.rows, config.small_reference_rows
    small = rows <= cutoff
    size = f"reference has {rows:,} rows ({'<=' if small else '>'} {cutoff:,})"
    distinct = feature.distinct_values(config.discrete_values)
    if distinct is not None:
        test: TestName = "chi2" if small else "jensen_shannon"
        limit = config.discrete_values
        return test, f"{size}; numeric with {distinct} distinct values (<= {limit}), tested as categories", True
    test = "ks" if small else "wasserstein"
    why = "" if small else ", where a p-value test would flag negligible shifts"
    return test, f"{size}{why}", False


def _auto_categorical(rows: int, config: DriftConfig) -> tuple[TestName, str]:
    cutoff = config.small_reference_rows
    if rows <= cutoff:
        return "chi2", f"reference has {rows:,} rows (<= {cutoff:,})"
    return (
        "jensen_shannon",
        f"reference has {rows:,} rows (> {cutoff:,}), where a p-value test would flag negligible shifts",
    )


def _measure(plan: _Plan, reference: Any, current: Any, config: DriftConfig) -> _Measured:
    """Prepare the feature's two columns once and compute each of its tests' statistics."""
    where = f"{plan.kind} feature {plan.feature!r}"
    names = (f"{where} in reference", f"{where} in current")
    if plan.kind == "categorical":
        counts = category_counts(reference, current, names=names)
        tests, reason = plan.tests, plan.source
        if tests is None:
            test, reason = _auto_categorical(counts.sides.reference_rows, config)
            tests = (test,)
        results = tuple((test, _run_categorical(test, counts)) for test in tests)
        return _Measured(plan.feature, plan.kind, counts.sides, results, _reason(reason, tests))
    feature = _NumericFeature(
        numeric_sample(reference, name=names[0]), numeric_sample(current, name=names[1]), config.bins
    )
    tests, reason, as_categories = plan.tests, plan.source, False
    if tests is None:
        test, reason, as_categories = _auto_numeric(feature, config)
        tests = (test,)
    results = tuple((test, feature.run(test, as_categories)) for test in tests)
    sides = Sides(feature.reference.rows, feature.current.rows, feature.reference.missing, feature.current.missing)
    return _Measured(plan.feature, plan.kind, sides, results, _reason(reason, tests))


def _reason(why: str, tests: Sequence[TestName]) -> str:
    return f"{', '.join(TEST_LABELS[test] for test in tests)}: {why}"


def _length(values: Any) -> int:
    try:
        return len(values)
    except TypeError:
        return 0


def _map(function: Callable[[_T], _R], items: Sequence[_T], workers: int) -> list[_R]:
    """`function` over `items` in order, in `workers` threads when more than one; the first error is raised."""
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="drift") as pool:
        return list(pool.map(function, items))


def _details(result: Statistic) -> dict[str, Detail]:
    """What reads a statistic, beside the statistic itself."""
    if isinstance(result, KSResult):
        return {"method": result.method}
    if isinstance(result, ChiSquareResult):
        return {
            "dof": result.dof,
            "yates_correction": result.yates_correction,
            "categories": result.categories,
            "only_in_reference": result.only_in_reference,
            "only_in_current": result.only_in_current,
        }
    if isinstance(result, PSIResult):
        return {
            "bins": result.bins,
            "binning": result.binning,
            "empty_bins": result.empty_bins,
            "epsilon": result.epsilon,
        }
    if isinstance(result, JensenShannonResult):
        return {"bins": result.bins, "binning": result.binning}
    return {"distance": result.distance, "reference_std": result.reference_std, "norm": result.norm}


def _p_value_severity(p_value: float, alpha: float, steps: tuple[float, float]) -> Severity:
    medium, high = steps
    if p_value < alpha * high:
        return "high"
    if p_value < alpha * medium:
        return "medium"
    return "low" if p_value < alpha else "none"


def _distance_severity(statistic: float, threshold: float, steps: tuple[float, float]) -> Severity:
    medium, high = steps
    if statistic >= threshold * high:
        return "high"
    if statistic >= threshold * medium:
        return "medium"
    return "low" if statistic >= threshold else "none"


def _decide(
    measured: _Measured, test: TestName, result: Statistic, adjusted: float | None, config: DriftConfig
) -> DriftTestResult:
    """Drift and severity of one test: the adjusted p-value against alpha, or the distance against its threshold."""
    steps = config.severity_steps[test]
    if adjusted is not None:
        alpha = config.alpha_for(measured.feature)
        severity = _p_value_severity(adjusted, alpha, steps)
        return DriftTestResult(
            test, result.statistic, result.p_value, adjusted, alpha, adjusted < alpha, severity, _details(result)
        )
    threshold = config.threshold_for(measured.feature, test)
    severity = _distance_severity(result.statistic, threshold, steps)
    drifted = result.statistic >= threshold
    return DriftTestResult(test, result.statistic, None, None, threshold, drifted, severity, _details(result))


def _adjusted_p_values(measured: Sequence[_Measured], config: DriftConfig) -> dict[tuple[int, int], float]:
    """Every p-value test of the report, keyed (feature index, test index), corrected together."""
    keys, p_values = [], []
    for i, feature in enumerate(measured):
        for j, (test, result) in enumerate(feature.results):
            if test in P_VALUE_TESTS and result.p_value is not None:
                keys.append((i, j))
                p_values.append(result.p_value)
    return dict(zip(keys, (float(p) for p in adjust_p_values(p_values, config.correction)), strict=True))


def _method_text(measured: Sequence[_Measured], given: tuple[TestName, ...] | None, config: DriftConfig) -> str:
    """In words: how tests were chosen, which ran where, how p-values were corrected, the dataset rule."""
    if given is not None:
        choice = f"Tests given by the call: {', '.join(given)}."
    else:
        choice = (
            f"Tests chosen automatically, by Evidently's rule: a feature whose reference has at most "
            f"{config.small_reference_rows:,} rows gets a p-value test (Kolmogorov-Smirnov if numeric, chi-square "
            f"if categorical or numeric with at most {config.discrete_values} distinct values); a larger one gets a "
            f"distance compared with a threshold (normed Wasserstein if numeric, Jensen-Shannon if categorical or "
            f"discrete), because with that many rows a p-value test calls every negligible shift drift."
        )
    overridden = [m.feature for m in measured if config.tests_for(m.feature) is not None]
    if overridden:
        choice += f" Tests set per feature for: {', '.join(overridden)}."
    used = Counter(test for m in measured for test, _ in m.results)
    ran = "; ".join(f"{TEST_LABELS[test]} on {n} feature{'s' if n != 1 else ''}" for test, n in used.items())
    tested = sum(n for test, n in used.items() if test in P_VALUE_TESTS)
    if tested == 0:
        correction = "No p-value test ran, so no correction."
    elif config.correction == "none":
        correction = f"The {tested} p-values are compared with alpha {config.alpha:g} as they are (no correction)."
    else:
        label = CORRECTION_LABELS[config.correction]
        correction = (
            f"The {tested} p-value{'s are' if tested != 1 else ' is'} adjusted by {label} across the features "
            f"of this report, then compared with alpha {config.alpha:g}."
        )
    dataset = f"The dataset drifts when at least {config.drift_share:.0%} of its features drift."
    return f"{choice} Ran: {ran}. {correction} {dataset}"


def detect_drift(
    reference: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    categorical: Collection[str] = (),
    tests: Sequence[str] | None = None,
    config: DriftConfig = DEFAULT_CONFIG,
) -> DriftReport:
    """Compare `current` with `reference`, feature by feature (columns by name: dicts of arrays or lists, or
    pandas DataFrames), and decide which features drift and whether the dataset does.

    Features named in `categorical` are compared as categories, the others as numbers. `tests` (names in
    TEST_NAMES) runs the same tests on every feature, and each must fit every feature's kind; a feature's
    override in `config` takes precedence; without either, the automatic choice (see the module docstring).
    Missing values are dropped per feature and counted. Raises ValueError, naming the feature, on: feature
    sets that differ, an unknown test, a test that does not fit a feature's kind, a non-numeric value in a
    numeric feature, a side with no value left after dropping missing ones.
    """
    names = _feature_names(reference, current, categorical)
    unknown = [name for name in config.feature_overrides if name not in reference]
    if unknown:
        raise ValueError(f"feature_overrides names features not in the data: {', '.join(map(repr, unknown))}")
    given = None if tests is None else known_tests(tests)
    chosen = set(categorical)
    plans = [_plan(name, "categorical" if name in chosen else "numeric", given, config) for name in names]
    rows = sum(_length(reference[name]) + _length(current[name]) for name in names)
    workers = (config.max_workers or os.cpu_count() or 1) if rows >= PARALLEL_MIN_ROWS else 1
    measured = _map(lambda plan: _measure(plan, reference[plan.feature], current[plan.feature], config), plans, workers)
    adjusted = _adjusted_p_values(measured, config)
    features = tuple(
        FeatureDrift(
            m.feature,
            m.kind,
            m.sides.reference_rows,
            m.sides.current_rows,
            m.sides.reference_missing,
            m.sides.current_missing,
            tuple(_decide(m, test, result, adjusted.get((i, j)), config) for j, (test, result) in enumerate(m.results)),
            m.reason,
        )
        for i, m in enumerate(measured)
    )
    return DriftReport(
        features, config.drift_share, config.alpha, config.correction, _method_text(measured, given, config)
    )
