"""Training runs: split, fit, choose a threshold, evaluate on held-out rows, profile. No MLflow here.

The result carries everything a caller logs or registers (model, metrics, plots, reference profile,
input example, and for text models the projection of the model's features that drift monitoring applies to
live traffic), so the tracking code stays a thin layer and these functions are testable without a server.
Binary classifiers get a decision threshold chosen on a validation split carved out of the
training part (never on the test rows, whose metrics would otherwise flatter the model); the final model
is then refit on the whole training part and evaluated once on the test rows at that threshold.

One module per job: `text` and `tabular` (the two runs), `tabular_params` and `tabular_pipeline` (what a
tabular model is), `preparation` (split, labels, example), `validation_threshold`, `held_out` (evaluation),
`progress`, and `result` (what a run returns).
"""

from __future__ import annotations

from mlsec.ml.training.preparation import EXAMPLE_ROWS
from mlsec.ml.training.progress import ProgressCallback
from mlsec.ml.training.result import TrainingResult
from mlsec.ml.training.tabular import train_tabular
from mlsec.ml.training.tabular_params import TabularParams
from mlsec.ml.training.tabular_pipeline import build_tabular_pipeline
from mlsec.ml.training.text import train_text_classifier
from mlsec.ml.training.validation_threshold import VALIDATION_FRACTION

__all__ = [
    "EXAMPLE_ROWS",
    "VALIDATION_FRACTION",
    "ProgressCallback",
    "TabularParams",
    "TrainingResult",
    "build_tabular_pipeline",
    "train_tabular",
    "train_text_classifier",
]
