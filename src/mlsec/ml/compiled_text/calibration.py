"""Sigmoid calibration of a binary linear ensemble, as columns of one matrix of margins.

CalibratedClassifierCV re-validates its input in each of its estimators; here its probabilities are one
vectorised expression, summed in scikit-learn's order so the answer is the same to the last bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit


@dataclass(frozen=True)
class _Calibration:
    """CalibratedClassifierCV(method="sigmoid") over binary linear estimators, as columns of one matrix."""

    intercepts: np.ndarray[Any, Any]  # (n_estimators,)
    slopes: np.ndarray[Any, Any]  # sigmoid a_ per estimator
    offsets: np.ndarray[Any, Any]  # sigmoid b_ per estimator

    def positive_proba(self, margins: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """(n, 2) probabilities: the mean over the ensemble of [1 - p_k, p_k], summed in sklearn's order."""
        calibrated = expit(-(self.slopes * (margins + self.intercepts) + self.offsets))
        proba = np.zeros((margins.shape[0], 2), dtype=np.float64)
        for k in range(calibrated.shape[1]):
            proba[:, 1] += calibrated[:, k]
            proba[:, 0] += 1.0 - calibrated[:, k]
        proba /= calibrated.shape[1]
        return proba
