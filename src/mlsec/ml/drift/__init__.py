"""Data drift: two-sample statistics (`statistics`) and the per-feature, per-dataset decision (`detect_drift`).

See docs/drift.md for the tests, how they are chosen, and the settings.
"""

from __future__ import annotations

from mlsec.ml.drift.config import (
    DEFAULT_SEVERITY_STEPS,
    DEFAULT_THRESHOLDS,
    DISTANCE_TESTS,
    P_VALUE_TESTS,
    TEST_NAMES,
    DriftConfig,
    FeatureOverride,
    Kind,
    Severity,
    TestName,
)
from mlsec.ml.drift.detector import detect_drift
from mlsec.ml.drift.report import DriftReport, DriftTestResult, FeatureDrift
from mlsec.ml.drift.samples import Sides
from mlsec.ml.drift.statistics import (
    PSI_EPSILON,
    ChiSquareResult,
    Correction,
    JensenShannonResult,
    KSResult,
    PSIResult,
    WassersteinResult,
    adjust_p_values,
    chi_square_test,
    jensen_shannon,
    ks_test,
    psi,
    wasserstein,
)

__all__ = [
    "DEFAULT_SEVERITY_STEPS",
    "DEFAULT_THRESHOLDS",
    "DISTANCE_TESTS",
    "PSI_EPSILON",
    "P_VALUE_TESTS",
    "TEST_NAMES",
    "ChiSquareResult",
    "Correction",
    "DriftConfig",
    "DriftReport",
    "DriftTestResult",
    "FeatureDrift",
    "FeatureOverride",
    "JensenShannonResult",
    "KSResult",
    "Kind",
    "PSIResult",
    "Severity",
    "Sides",
    "TestName",
    "WassersteinResult",
    "adjust_p_values",
    "chi_square_test",
    "detect_drift",
    "jensen_shannon",
    "ks_test",
    "psi",
    "wasserstein",
]
