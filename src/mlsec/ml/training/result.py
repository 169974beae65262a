"""What a training run hands back: everything a caller logs or registers, in one TrainingResult.

The result carries the model, metrics, plots, reference profile, input example, and for text models the
projection of the model's features that drift monitoring applies to live traffic, so the tracking code
stays a thin layer and the training functions are testable without a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlsec.ml.datasets import Task
from mlsec.ml.projection import Projection


@dataclass
class TrainingResult:
    """Everything a training run produced; see the module docstring."""

    model: Any  # the fitted sklearn estimator/pipeline
    task: Task
    metrics: dict[str, float]  # held-out metrics, plus "train_rows", "test_rows", "training_seconds"
    threshold: float | None  # binary classification: decision threshold on P(positive); None otherwise
    classes: list[str]  # class labels as str (classification), [] for regression
    classification_report: dict[str, Any] | None  # sklearn classification_report(output_dict=True) at the threshold
    confusion_matrix: list[list[int]] | None
    plots: dict[str, bytes]  # file name -> PNG bytes
    profile: dict[str, Any]  # reference profile of the training data
    input_example: pd.DataFrame  # up to 5 training rows of the model's input columns
    projection: Projection | None = None  # text models: the projection whose proj_* features the profile holds
