"""What a drift report says: per test, per feature and for the dataset, as frozen dataclasses and plain JSON.

`to_dict()` is what the analytics service stores and returns: no NaN (a value that is not finite becomes
null), no numpy types.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlsec.ml.drift.config import SEVERITIES, Kind, Severity, TestName

Detail = float | int | str | bool


def worst(severities: Iterable[Severity]) -> Severity:
    """The most severe of the levels ("none" for none at all)."""
    return max(severities, key=SEVERITIES.index, default="none")


def _json_float(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _json_detail(value: Detail) -> Detail | None:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    return _json_float(value)


@dataclass(frozen=True)
class DriftTestResult:
    """One test on one feature.

    `threshold` is what decided it: alpha for a p-value test (drift when the adjusted p-value is below it),
    the distance threshold for a distance (drift when the statistic reaches it). `p_value_adjusted` is the
    p-value after the report's correction across features; both are None for a distance. `details` holds
    what reads the statistic: the KS method, the chi-square dof, the bins, the raw Wasserstein distance, ...
    """

    test: TestName
    statistic: float
    p_value: float | None
    p_value_adjusted: float | None
    threshold: float
    drift_detected: bool
    severity: Severity
    details: Mapping[str, Detail]

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "statistic": _json_float(self.statistic),
            "p_value": _json_float(self.p_value),
            "p_value_adjusted": _json_float(self.p_value_adjusted),
            "threshold": _json_float(self.threshold),
            "drift_detected": bool(self.drift_detected),
            "severity": self.severity,
            "details": {str(name): _json_detail(value) for name, value in self.details.items()},
        }


@dataclass(frozen=True)
class FeatureDrift:
    """One feature: rows used and missing values dropped per side, its tests, and why these tests.

    The feature drifts when any of its tests does; its severity is the worst of its tests'.
    """

    feature: str
    kind: Kind
    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int
    tests: tuple[DriftTestResult, ...]
    reason: str

    @property
    def drift_detected(self) -> bool:
        return any(result.drift_detected for result in self.tests)

    @property
    def severity(self) -> Severity:
        return worst(result.severity for result in self.tests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "kind": self.kind,
            "reference_rows": int(self.reference_rows),
            "current_rows": int(self.current_rows),
            "reference_missing": int(self.reference_missing),
            "current_missing": int(self.current_missing),
            "drift_detected": self.drift_detected,
            "severity": self.severity,
            "reason": self.reason,
            "tests": [result.to_dict() for result in self.tests],
        }


@dataclass(frozen=True)
class DriftReport:
    """A dataset's drift: its features, and the dataset-level verdict.

    The dataset drifts when the share of drifted features reaches `drift_share` (Evidently's rule: 0.5 by
    default, so one drifted feature out of twenty does not make the dataset drift); `severity` is the worst
    feature's, so it can be "high" while the dataset as a whole is not said to drift. `method` tells in words
    which tests ran on which features and why, and how p-values were corrected.
    """

    features: tuple[FeatureDrift, ...]
    drift_share: float
    alpha: float
    correction: str
    method: str

    @property
    def drifted_features(self) -> int:
        return sum(feature.drift_detected for feature in self.features)

    @property
    def drifted_share(self) -> float:
        return self.drifted_features / len(self.features) if self.features else 0.0

    @property
    def drift_detected(self) -> bool:
        return bool(self.features) and self.drifted_share >= self.drift_share

    @property
    def severity(self) -> Severity:
        return worst(feature.severity for feature in self.features)

    def feature(self, name: str) -> FeatureDrift:
        """The result of one feature by name (KeyError when the report has none of that name)."""
        for feature in self.features:
            if feature.feature == name:
                return feature
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift_detected": self.drift_detected,
            "severity": self.severity,
            "drifted_features": self.drifted_features,
            "features_total": len(self.features),
            "drifted_share": _json_float(self.drifted_share),
            "drift_share": _json_float(self.drift_share),
            "alpha": _json_float(self.alpha),
            "correction": self.correction,
            "method": self.method,
            "features": [feature.to_dict() for feature in self.features],
        }
