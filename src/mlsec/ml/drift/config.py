"""How drift is decided: significance level, multiple-testing correction, distance thresholds, severity steps
and per-feature overrides, validated when built so a bad setting fails at start-up, not mid-report.

Defaults follow Evidently's data-drift preset (alpha 0.05, thresholds 0.1, the 1,000-row cutoff between
p-value tests and distances, a dataset drifting when half its features do), plus what Evidently leaves out:
a correction of the p-values across the features of one report, on by default (Benjamini-Hochberg), and
severity levels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeAlias, cast

from mlsec.ml.drift.samples import DEFAULT_BINS
from mlsec.ml.drift.statistics import CORRECTIONS, Correction

TestName: TypeAlias = Literal["ks", "chi2", "psi", "jensen_shannon", "wasserstein"]
Kind: TypeAlias = Literal["numeric", "categorical"]
Severity: TypeAlias = Literal["none", "low", "medium", "high"]

TEST_NAMES: tuple[TestName, ...] = ("ks", "chi2", "psi", "jensen_shannon", "wasserstein")
P_VALUE_TESTS: frozenset[TestName] = frozenset({"ks", "chi2"})
DISTANCE_TESTS: tuple[TestName, ...] = ("psi", "jensen_shannon", "wasserstein")
FITS: Mapping[TestName, frozenset[Kind]] = MappingProxyType(
    {
        "ks": frozenset({"numeric"}),
        "chi2": frozenset({"categorical"}),
        "psi": frozenset({"numeric", "categorical"}),
        "jensen_shannon": frozenset({"numeric", "categorical"}),
        "wasserstein": frozenset({"numeric"}),
    }
)
"""The feature kinds each test takes."""
SEVERITIES: tuple[Severity, ...] = ("none", "low", "medium", "high")
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType({"psi": 0.1, "jensen_shannon": 0.1, "wasserstein": 0.1})
DEFAULT_SEVERITY_STEPS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "ks": (0.1, 0.01),
        "chi2": (0.1, 0.01),
        "psi": (2.0, 4.0),
        "jensen_shannon": (2.0, 4.0),
        "wasserstein": (2.0, 4.0),
    }
)
"""(medium, high) per test: fractions of alpha that the adjusted p-value must fall below for the p-value tests,
multiples of the threshold that the statistic must reach for the distances. Drift itself is "low"."""


def _known_tests(tests: Sequence[str], where: str) -> tuple[TestName, ...]:
    """The tests as a tuple, each checked against TEST_NAMES; a plain string is refused (it is not a list)."""
    if isinstance(tests, str):
        raise ValueError(f"{where} must be a list of test names, got the string {tests!r}")
    unknown = [name for name in tests if name not in TEST_NAMES]
    if unknown:
        raise ValueError(f"{where}: unknown test {unknown[0]!r}; the tests are {', '.join(TEST_NAMES)}")
    if not tests:
        raise ValueError(f"{where} is empty: name at least one test, or leave it unset for the automatic choice")
    return tuple(dict.fromkeys(cast(Sequence[TestName], tests)))


def _check_alpha(alpha: float, where: str) -> float:
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise ValueError(f"{where} must be a number strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def _checked_thresholds(thresholds: Mapping[str, float], where: str) -> Mapping[str, float]:
    for name, value in thresholds.items():
        if name not in DISTANCE_TESTS:
            raise ValueError(
                f"{where} names {name!r}, which has no threshold: thresholds are for the distance tests "
                f"({', '.join(DISTANCE_TESTS)}); ks and chi2 are decided by alpha"
            )
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{where}[{name!r}] must be a finite number > 0, got {value!r}")
    return {name: float(value) for name, value in thresholds.items()}


def _checked_steps(steps: Mapping[str, tuple[float, float]]) -> Mapping[str, tuple[float, float]]:
    for name, pair in steps.items():
        if name not in TEST_NAMES:
            raise ValueError(f"severity_steps: unknown test {name!r}; the tests are {', '.join(TEST_NAMES)}")
        if len(pair) != 2 or not all(isinstance(x, int | float) and math.isfinite(x) for x in pair):
            raise ValueError(f"severity_steps[{name!r}] must be two numbers (medium, high), got {pair!r}")
        medium, high = pair
        if name in P_VALUE_TESTS and not 1.0 >= medium >= high > 0.0:
            raise ValueError(
                f"severity_steps[{name!r}] are fractions of alpha below which the adjusted p-value is medium, "
                f"then high: need 1 >= medium >= high > 0, got {pair!r}"
            )
        if name not in P_VALUE_TESTS and not 1.0 <= medium <= high:
            raise ValueError(
                f"severity_steps[{name!r}] are multiples of the threshold from which the distance is medium, "
                f"then high: need 1 <= medium <= high, got {pair!r}"
            )
    return {**DEFAULT_SEVERITY_STEPS, **{k: (float(a), float(b)) for k, (a, b) in steps.items()}}


@dataclass(frozen=True)
class FeatureOverride:
    """What changes for one feature: its tests (instead of the call's or the automatic choice), its alpha,
    its distance thresholds (merged over the report's). Unset fields keep the report's settings."""

    tests: Sequence[str] | None = None
    alpha: float | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tests is not None:
            object.__setattr__(self, "tests", _known_tests(self.tests, "FeatureOverride.tests"))
        if self.alpha is not None:
            _check_alpha(self.alpha, "FeatureOverride.alpha")
        object.__setattr__(self, "thresholds", _checked_thresholds(self.thresholds, "FeatureOverride.thresholds"))


@dataclass(frozen=True)
class DriftConfig:
    """Settings of a drift report; every field is checked when the config is built (ValueError).

    The mappings are copied into plain dicts (so a config pickles, for a process pool or a cache); treat them
    as read-only.

    - `alpha`: significance level of the p-value tests (ks, chi2), applied to the adjusted p-values.
    - `correction`: how p-values are adjusted across the p-value tests of one report: "benjamini-hochberg"
      (default; bounds the share of false alarms), "bonferroni" (bounds the chance of any) or "none".
    - `small_reference_rows`: the automatic choice runs p-value tests on a feature whose reference has at
      most this many rows (after dropping missing values), distances above it (Evidently's 1,000).
    - `discrete_values`: a numeric feature with at most this many distinct values over both sides is tested
      as categories by the automatic choice (Evidently's 5).
    - `drift_share`: the dataset drifts when at least this share of its features drift (Evidently's 0.5).
    - `bins`: bins cut at the reference's quantiles for PSI and Jensen-Shannon on numeric features.
    - `thresholds`: per distance test (psi, jensen_shannon, wasserstein), merged over DEFAULT_THRESHOLDS.
    - `severity_steps`: per test, (medium, high), merged over DEFAULT_SEVERITY_STEPS.
    - `feature_overrides`: per feature name, a FeatureOverride.
    - `max_workers`: threads across features for large inputs (None: one per CPU; 1: none).
    """

    alpha: float = 0.05
    correction: Correction = "benjamini-hochberg"
    small_reference_rows: int = 1000
    discrete_values: int = 5
    drift_share: float = 0.5
    bins: int = DEFAULT_BINS
    thresholds: Mapping[str, float] = field(default_factory=dict)
    severity_steps: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    feature_overrides: Mapping[str, FeatureOverride] = field(default_factory=dict)
    max_workers: int | None = None

    def __post_init__(self) -> None:
        _check_alpha(self.alpha, "alpha")
        if self.correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}; got {self.correction!r}")
        for name, minimum in (("small_reference_rows", 0), ("discrete_values", 0), ("bins", 2)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        if not (isinstance(self.drift_share, int | float) and 0.0 < self.drift_share <= 1.0):
            raise ValueError(f"drift_share must be a number in (0, 1], got {self.drift_share!r}")
        if self.max_workers is not None and (not isinstance(self.max_workers, int) or self.max_workers < 1):
            raise ValueError(f"max_workers must be None or an integer >= 1, got {self.max_workers!r}")
        thresholds = _checked_thresholds(self.thresholds, "thresholds")
        object.__setattr__(self, "thresholds", {**DEFAULT_THRESHOLDS, **thresholds})
        object.__setattr__(self, "severity_steps", _checked_steps(self.severity_steps))
        for name, override in self.feature_overrides.items():
            if not isinstance(override, FeatureOverride):
                raise ValueError(
                    f"feature_overrides[{name!r}] must be a FeatureOverride, got {type(override).__name__}"
                )
        object.__setattr__(self, "feature_overrides", dict(self.feature_overrides))

    def alpha_for(self, feature: str) -> float:
        override = self.feature_overrides.get(feature)
        return override.alpha if override is not None and override.alpha is not None else self.alpha

    def threshold_for(self, feature: str, test: TestName) -> float:
        """The distance threshold of `test` on `feature`: the feature's override, else the report's."""
        override = self.feature_overrides.get(feature)
        if override is not None and test in override.thresholds:
            return override.thresholds[test]
        return self.thresholds[test]

    def tests_for(self, feature: str) -> tuple[TestName, ...] | None:
        """The feature's own tests when an override sets them, else None."""
        override = self.feature_overrides.get(feature)
        return None if override is None or override.tests is None else cast(tuple[TestName, ...], override.tests)


DEFAULT_CONFIG = DriftConfig()


def known_tests(tests: Sequence[str], where: str = "tests") -> tuple[TestName, ...]:
    """Validate a list of test names (ValueError naming the first unknown one), without duplicates."""
    return _known_tests(tests, where)
