"""Training a text classifier: split, fit `build_text_classifier`, choose a threshold, evaluate, profile.

The vectorisers are fitted once and shared by the validation model and the final model, which halves the
cost of a run; the profile includes the projection of the model's features that drift monitoring uses.
"""

from __future__ import annotations

import time

import pandas as pd
from sklearn.base import clone

from mlsec.ml.profile import build_text_profile
from mlsec.ml.projection import fit_projection
from mlsec.ml.text_model import TextModelParams, build_text_classifier
from mlsec.ml.training.held_out import _evaluate_classifier
from mlsec.ml.training.preparation import _align_labels, _classes, _example, _split
from mlsec.ml.training.progress import ProgressCallback, _Progress
from mlsec.ml.training.result import TrainingResult
from mlsec.ml.training.validation_threshold import _can_hold_out, _validation_threshold


def _text_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [column for column in ("text", "label") if column not in frame.columns]
    if missing:
        raise ValueError(f"the {name} frame lacks column(s) {missing}; it has {list(map(str, frame.columns))}")
    if frame.empty:
        raise ValueError(f"the {name} frame has no rows")
    return pd.DataFrame({"text": frame["text"].astype(str).to_numpy(), "label": frame["label"].to_numpy()})


def train_text_classifier(
    train: pd.DataFrame,
    *,
    params: TextModelParams,
    test: pd.DataFrame | None = None,
    test_size: float = 0.2,
    progress: ProgressCallback | None = None,
) -> TrainingResult:
    """Train `build_text_classifier(params)` on `train` (columns text, label) and evaluate it on `test`,
    or on a stratified seeded `test_size` split of `train` when no test frame is given.

    Binary labels: the positive class is the larger label (1 of {0, 1}); the threshold is chosen on a
    validation split of the training part. More classes: multi-class metrics and no threshold. The
    vectorisers are fitted once on the whole training part and shared by the validation model and the
    final model (they see no labels), which halves the cost of a run; the returned pipeline is exactly
    what `build_text_classifier(params).fit(training part)` would give.
    """
    report = _Progress(progress)
    report(5, "loading")
    data = _text_frame(train, "train")
    held_out = _text_frame(test, "test") if test is not None else None
    if held_out is not None:
        data["label"], held_out["label"] = _align_labels(data["label"], held_out["label"])
    else:
        (data["label"],) = _align_labels(data["label"])
    classes = _classes(data["label"])
    report(15, "splitting")
    if held_out is None:
        fit_part, test_part = _split(data, test_size, params.seed, stratify=data["label"])
    else:
        fit_part, test_part = data, held_out
    unseen = sorted(set(map(str, test_part["label"])) - set(map(str, classes)))
    if unseen:
        raise ValueError(f"the test rows have labels the training rows lack: {unseen}")
    y = fit_part["label"].to_numpy()
    smallest = int(pd.Series(y).value_counts().reindex(classes, fill_value=0).min())
    if smallest < params.calibration_folds:
        raise ValueError(
            f"every class needs at least {params.calibration_folds} training rows (calibration_folds); "
            f"the smallest has {smallest}"
        )

    report(30, "fitting")
    started = time.perf_counter()
    pipeline = build_text_classifier(params)
    texts = pipeline.named_steps["select"].fit_transform(fit_part)
    features = pipeline.named_steps["features"]
    matrix = features.fit_transform(texts)
    template = pipeline.named_steps["classifier"]
    threshold: float | None = None
    if classes.size == 2:
        threshold = 0.5
        if _can_hold_out(y, params.calibration_folds):
            threshold = _validation_threshold(template, matrix, y, positive=classes[1], seed=params.seed)
    classifier = clone(template).fit(matrix, y)
    pipeline.set_params(classifier=classifier)
    training_seconds = time.perf_counter() - started

    report(70, "evaluating")
    test_matrix = features.transform(pipeline.named_steps["select"].transform(test_part))
    evaluation = _evaluate_classifier(test_part["label"], classifier.predict_proba(test_matrix), classes, threshold)

    report(85, "profiling")
    train_proba = classifier.predict_proba(matrix)
    scores = train_proba[:, 1] if classes.size == 2 else train_proba.max(axis=1)
    projection = fit_projection(matrix, seed=params.seed)
    projected = projection.columns(projection.transform(matrix)) if projection is not None else None
    profile = build_text_profile(
        list(texts), scores=scores, labels=list(map(str, y)), extra=projected, seed=params.seed
    )
    metrics = {
        **evaluation.metrics,
        "train_rows": len(fit_part),
        "test_rows": len(test_part),
        "training_seconds": round(training_seconds, 3),
    }
    result = TrainingResult(
        model=pipeline,
        task="text_classification",
        metrics=metrics,
        threshold=threshold,
        classes=[str(label) for label in classes],
        classification_report=evaluation.report,
        confusion_matrix=evaluation.matrix,
        plots=evaluation.plots,
        profile=profile,
        input_example=_example(fit_part[["text"]], fit_part["label"]),
        projection=projection,
    )
    report(100, "done")
    return result
