"""Training runs: split, fit, choose a threshold, evaluate on held-out rows, profile. No MLflow here.

The result carries everything a caller logs or registers (model, metrics, plots, reference profile,
input example, and for text models the projection of the model's features that drift monitoring applies to
live traffic), so the tracking code stays a thin layer and these functions are testable without a server.
Binary classifiers get a decision threshold chosen on a validation split carved out of the
training part (never on the test rows, whose metrics would otherwise flatter the model); the final model
is then refit on the whole training part and evaluated once on the test rows at that threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlsec.ml.datasets import Task
from mlsec.ml.evaluation import (
    binary_metrics,
    choose_threshold,
    confusion_matrix_png,
    multiclass_metrics,
    pr_curve_png,
    regression_metrics,
    residuals_png,
    roc_curve_png,
)
from mlsec.ml.params import parse_params
from mlsec.ml.profile import build_tabular_profile, build_text_profile
from mlsec.ml.projection import Projection, fit_projection
from mlsec.ml.text_model import TextModelParams, build_text_classifier

ProgressCallback = Callable[[int, str], None]  # (percent 0-100, step name); called with increasing percent

VALIDATION_FRACTION = 0.2  # of the training part, held back to choose the threshold
EXAMPLE_ROWS = 5


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


@dataclass(frozen=True)
class TabularParams:
    """Hyper-parameters of `train_tabular`. n_estimators is the number of boosting iterations for
    gradient boosting and of trees for a random forest; learning_rate applies to gradient boosting."""

    model: Literal["random_forest", "gradient_boosting", "linear"] = "gradient_boosting"
    n_estimators: int = 200
    max_depth: int | None = None
    learning_rate: float = 0.1
    seed: int = 42

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.model not in ("random_forest", "gradient_boosting", "linear"):
            problems.append("model must be 'random_forest', 'gradient_boosting' or 'linear'")
        if self.n_estimators < 1:
            problems.append("n_estimators must be at least 1")
        if self.max_depth is not None and self.max_depth < 1:
            problems.append("max_depth must be at least 1 or null")
        if not self.learning_rate > 0:
            problems.append("learning_rate must be positive")
        if self.seed < 0:
            problems.append("seed must not be negative")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TabularParams:
        """Parse user-supplied parameters; unknown keys and wrong types raise ValueError naming them."""
        return parse_params(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Progress:
    """Forwards progress to the callback, refusing to go backwards (a caller's bar must only grow)."""

    def __init__(self, callback: ProgressCallback | None):
        self.callback, self.last = callback, -1

    def __call__(self, percent: int, step: str) -> None:
        if percent <= self.last:
            raise AssertionError(f"progress went from {self.last} to {percent}")
        self.last = percent
        if self.callback is not None:
            self.callback(percent, step)


# --- shared helpers -----------------------------------------------------------------------------------


def _align_labels(*labels: pd.Series) -> list[pd.Series]:
    """Labels of several frames made comparable: ints stay ints only when every frame has int labels."""
    if all(pd.api.types.is_integer_dtype(series) for series in labels):
        return [series.astype("int64") for series in labels]
    return [series.astype(str) for series in labels]


def _split(frame: pd.DataFrame, test_size: float, seed: int, stratify: pd.Series | None) -> tuple[Any, Any]:
    """A seeded split, stratified when every class has at least two rows (else sklearn cannot)."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    if stratify is not None and stratify.value_counts().min() < 2:
        stratify = None
    first, second = train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    return first.reset_index(drop=True), second.reset_index(drop=True)


def _example(frame: pd.DataFrame, labels: pd.Series | None) -> pd.DataFrame:
    """Up to EXAMPLE_ROWS rows of `frame`; for classification taken round-robin across classes, so the
    example shows every class the model predicts (a wrapper fitted on it then sees more than one class)."""
    if labels is None or frame.empty:
        return frame.head(EXAMPLE_ROWS).reset_index(drop=True)
    rank = labels.groupby(labels, sort=False).cumcount().to_numpy()
    order = np.lexsort((np.arange(len(frame)), rank))[:EXAMPLE_ROWS]
    return frame.iloc[np.sort(order)].reset_index(drop=True)


def _plain(value: Any) -> Any:
    """numpy scalars inside a nested report made plain Python, so it is JSON-serialisable."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class _Evaluation:
    metrics: dict[str, float]
    report: dict[str, Any]
    matrix: list[list[int]]
    plots: dict[str, bytes]


def _evaluate_classifier(
    y_true: pd.Series, proba: np.ndarray[Any, Any], classes: np.ndarray[Any, Any], threshold: float | None
) -> _Evaluation:
    """Held-out metrics, report, confusion matrix and plots; binary at `threshold`, else by argmax."""
    truth = y_true.to_numpy()
    names = [str(label) for label in classes]
    plots: dict[str, bytes] = {}
    if threshold is not None:
        scores = proba[:, 1]
        positives = (truth == classes[1]).astype(int)
        metrics = binary_metrics(positives, scores, threshold)
        predicted = np.where(scores >= threshold, classes[1], classes[0])
        if 0 < positives.sum() < positives.size:
            plots["roc_curve.png"] = roc_curve_png(positives, scores)
            plots["pr_curve.png"] = pr_curve_png(positives, scores)
    else:
        predicted = classes[np.argmax(proba, axis=1)]
        metrics = multiclass_metrics(truth, predicted, proba, list(classes))
    truth_names = [str(label) for label in truth]
    predicted_names = [str(label) for label in predicted]
    report = classification_report(truth_names, predicted_names, labels=names, output_dict=True, zero_division=0)
    matrix = confusion_matrix(truth_names, predicted_names, labels=names)
    plots = {"confusion_matrix.png": confusion_matrix_png(matrix, names), **plots}
    return _Evaluation(metrics, _plain(report), [[int(cell) for cell in row] for row in matrix], plots)


def _can_hold_out(labels: np.ndarray[Any, Any], folds: int) -> bool:
    """Whether a stratified validation split leaves every class enough rows on both sides."""
    counts = pd.Series(labels).value_counts()
    return bool(counts.min() * (1 - VALIDATION_FRACTION) >= max(folds, 2) and counts.min() * VALIDATION_FRACTION >= 1)


def _validation_threshold(template: Any, x: Any, y: np.ndarray[Any, Any], *, positive: Any, seed: int) -> float:
    """Fit a clone of `template` on 80% of (x, y), stratified and seeded, and choose the F1-best threshold
    on P(positive) over the other 20%."""
    indices = np.arange(y.shape[0])
    fit_rows, validation_rows = train_test_split(indices, test_size=VALIDATION_FRACTION, random_state=seed, stratify=y)
    model = clone(template).fit(_rows(x, fit_rows), y[fit_rows])
    column = list(model.classes_).index(positive)
    scores = model.predict_proba(_rows(x, validation_rows))[:, column]
    return choose_threshold((y[validation_rows] == positive).astype(int), scores)


def _rows(x: Any, indices: np.ndarray[Any, Any]) -> Any:
    return x.iloc[indices] if isinstance(x, pd.DataFrame) else x[indices]


def _classes(labels: pd.Series) -> np.ndarray[Any, Any]:
    classes = np.unique(labels.to_numpy())
    if classes.size < 2:
        raise ValueError(f"classification needs at least two classes, found {[str(c) for c in classes]}")
    return classes


# --- text ---------------------------------------------------------------------------------------------


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


# --- tabular ------------------------------------------------------------------------------------------


def _is_categorical(column: pd.Series) -> bool:
    return bool(
        pd.api.types.is_object_dtype(column)
        or pd.api.types.is_string_dtype(column)
        or isinstance(column.dtype, pd.CategoricalDtype)
    )


def _normalise_features(features: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as object with NaN for missing, the form JSON requests arrive in (and the only
    one SimpleImputer accepts: pandas' string dtype with pd.NA breaks it)."""
    result = features.copy()
    for name in result.columns:
        column = result[name]
        if _is_categorical(column) and not pd.api.types.is_object_dtype(column):
            values = column.astype(object)
            result[name] = values.where(column.notna(), np.nan)
    return result


def build_tabular_pipeline(
    features: pd.DataFrame, *, task: Literal["tabular_classification", "tabular_regression"], params: TabularParams
) -> Pipeline:
    """The unfitted pipeline for these feature columns: impute and one-hot encode, then the chosen model.

    Numeric columns: median imputation (and scaling for the linear models); bool columns: one-hot;
    object/string/category columns: most-frequent imputation and one-hot (unknown categories ignored);
    other dtypes (dates) are dropped. Only standard scikit-learn classes, so skops loads it.
    """
    boolean = [name for name in features.columns if pd.api.types.is_bool_dtype(features[name])]
    numeric = [
        name for name in features.columns if pd.api.types.is_numeric_dtype(features[name]) and name not in boolean
    ]
    categorical = [name for name in features.columns if name not in boolean and _is_categorical(features[name])]
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if params.model == "linear":
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if boolean:
        transformers.append(("boolean", OneHotEncoder(handle_unknown="ignore"), boolean))
    if categorical:
        encode = Pipeline(
            [("impute", SimpleImputer(strategy="most_frequent")), ("encode", OneHotEncoder(handle_unknown="ignore"))]
        )
        transformers.append(("categorical", encode, categorical))
    if not transformers:
        raise ValueError("no usable feature columns: need numeric, bool, string or categorical columns")
    dense = params.model == "gradient_boosting"  # HistGradientBoosting does not take sparse input
    preprocess = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0 if dense else 0.3)
    return Pipeline([("preprocess", preprocess), ("model", _estimator(task, params))])


def _estimator(task: str, params: TabularParams) -> Any:
    classification = task == "tabular_classification"
    if params.model == "gradient_boosting":
        boosting = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return boosting(
            max_iter=params.n_estimators,
            max_depth=params.max_depth,
            learning_rate=params.learning_rate,
            random_state=params.seed,
        )
    if params.model == "random_forest":
        forest = RandomForestClassifier if classification else RandomForestRegressor
        return forest(n_estimators=params.n_estimators, max_depth=params.max_depth, random_state=params.seed)
    if classification:
        return LogisticRegression(max_iter=2000, random_state=params.seed)
    return Ridge(random_state=params.seed)


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
