"""Training on tabular data: split, fit the tabular pipeline, choose a threshold, evaluate, profile.

Classification and regression share the run; binary classification gets a validation-chosen threshold
like text models, regression is judged by its residuals.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlsec.ml.evaluation import regression_metrics, residuals_png
from mlsec.ml.profile import build_tabular_profile
from mlsec.ml.training.held_out import _evaluate_classifier, _Evaluation
from mlsec.ml.training.preparation import _align_labels, _classes, _example, _split
from mlsec.ml.training.progress import ProgressCallback, _Progress
from mlsec.ml.training.result import TrainingResult
from mlsec.ml.training.tabular_params import TabularParams
from mlsec.ml.training.tabular_pipeline import _normalise_features, build_tabular_pipeline
from mlsec.ml.training.validation_threshold import _can_hold_out, _validation_threshold


def train_tabular(
    frame: pd.DataFrame,
    *,
    task: Literal["tabular_classification", "tabular_regression"],
    params: TabularParams,
    test_size: float = 0.2,
    progress: ProgressCallback | None = None,
) -> TrainingResult:
    """Train on `frame` (feature columns + "label"), evaluate on a seeded `test_size` split (stratified
    for classification). Binary classification gets a validation-chosen threshold like text models."""
    if task not in ("tabular_classification", "tabular_regression"):
        raise ValueError(f"unknown tabular task {task!r}")
    report = _Progress(progress)
    report(5, "loading")
    if "label" not in frame.columns:
        raise ValueError(f"the frame lacks a 'label' column; it has {list(map(str, frame.columns))}")
    if frame.empty:
        raise ValueError("the frame has no rows")
    features = _normalise_features(frame.drop(columns=["label"]))
    if features.shape[1] == 0:
        raise ValueError("the frame has no feature columns")
    classification = task == "tabular_classification"
    if classification:
        (labels,) = _align_labels(frame["label"].reset_index(drop=True))
        classes: np.ndarray[Any, Any] | None = _classes(labels)
    else:
        labels = pd.to_numeric(frame["label"], errors="raise").astype("float64").reset_index(drop=True)
        classes = None
    data = features.reset_index(drop=True).assign(label=labels.to_numpy())

    report(15, "splitting")
    fit_part, test_part = _split(data, test_size, params.seed, stratify=labels if classification else None)
    x_fit, y_fit = fit_part.drop(columns=["label"]), fit_part["label"].to_numpy()
    if classes is not None:
        absent = sorted(str(label) for label in set(classes.tolist()) - set(y_fit.tolist()))
        if absent:
            raise ValueError(f"class(es) {absent} have too few rows to appear in the training part")
    x_test, y_test = test_part.drop(columns=["label"]), test_part["label"]

    report(30, "fitting")
    started = time.perf_counter()
    template = build_tabular_pipeline(x_fit, task=task, params=params)
    threshold: float | None = None
    if classes is not None and classes.size == 2:
        threshold = 0.5
        if _can_hold_out(y_fit, folds=2):
            threshold = _validation_threshold(template, x_fit, y_fit, positive=classes[1], seed=params.seed)
    model = clone(template).fit(x_fit, y_fit)
    training_seconds = time.perf_counter() - started

    report(70, "evaluating")
    evaluation: _Evaluation | None = None
    if classes is not None:
        evaluation = _evaluate_classifier(y_test, model.predict_proba(x_test), classes, threshold)
        metrics, plots = evaluation.metrics, evaluation.plots
    else:
        predicted = model.predict(x_test)
        metrics = regression_metrics(y_test.to_numpy(), predicted)
        plots = {"residuals.png": residuals_png(y_test.to_numpy(), predicted)}

    report(85, "profiling")
    profile = build_tabular_profile(
        fit_part,
        label_column="label",
        seed=params.seed,
        label_type="categorical" if classification else "numeric",
    )
    result = TrainingResult(
        model=model,
        task=task,
        metrics={
            **metrics,
            "train_rows": len(fit_part),
            "test_rows": len(test_part),
            "training_seconds": round(training_seconds, 3),
        },
        threshold=threshold,
        classes=[str(label) for label in classes] if classes is not None else [],
        classification_report=evaluation.report if evaluation is not None else None,
        confusion_matrix=evaluation.matrix if evaluation is not None else None,
        plots=plots,
        profile=profile,
        input_example=_example(x_fit, fit_part["label"] if classification else None),
    )
    report(100, "done")
    return result
