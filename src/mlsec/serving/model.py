"""One registered model version in memory: what it predicts and how, in plain Python answers.

Prediction blocks (it is CPU-bound); the repository runs it in worker threads. Finding a version in the
registry is mlsec.serving.registry's job, loading it mlsec.serving.loader's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from mlsec.ml.compiled_text import CompiledTextClassifier
from mlsec.ml.projection import TextProjector
from mlsec.serving.errors import invalid_input

TEXT_COLUMN = "text"
_NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})


@dataclass(frozen=True)
class Prediction:
    """One input's answer, in plain Python types so that it serialises as is."""

    label: str | int | float
    score: float | None  # binary: P(classes[1]); multi-class: the highest probability; regression: None
    probabilities: dict[str, float] | None  # class (as str) -> probability; None for regression


@dataclass
class LoadedModel:
    """A model version ready to predict, with what the services report about it."""

    name: str
    version: str
    run_id: str | None
    task: str
    threshold: float | None  # already baked into the model's `predict`; informative only
    classes: list[str]
    source: str
    size_bytes: int  # bytes of the model's files on disk: the memory estimate the eviction budget counts
    load_seconds: float
    loaded_at: datetime
    input_columns: list[str]
    model: Any
    input_types: dict[str, str] = field(default_factory=dict)  # column -> MLflow signature type ("double", ...)
    compiled: CompiledTextClassifier | None = None  # the vectorised equivalent of `model`, when it has one
    inference_note: str | None = None  # why a text model runs through its pipeline instead
    projector: TextProjector | None = None  # proj_* drift features for the log writer; None: the run has none

    @property
    def inference(self) -> str:
        """ "compiled" (mlsec.ml.compiled_text, checked equal to the pipeline at load) or "pipeline"."""
        return "compiled" if self.compiled is not None else "pipeline"

    @property
    def takes_text(self) -> bool:
        """Whether inputs are texts (str) rather than records (mappings of column to value)."""
        return self.task.startswith("text")

    def predict_texts(self, texts: Sequence[str]) -> list[Prediction]:
        """Blocking: predict every text in one vectorised call."""
        if not self.takes_text:
            raise invalid_input(f"Model {self.name!r} version {self.version} takes records, not texts.")
        if self.compiled is not None:
            if not texts:
                return []
            proba = self.compiled.predict_proba(texts)
            return self._answers(self.compiled.labels(proba), proba)
        column = self.input_columns[0] if len(self.input_columns) == 1 else TEXT_COLUMN
        return self._predict(pd.DataFrame({column: list(texts)}, dtype=object))

    def predict_records(self, records: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """Blocking: predict every record (column -> value) in one vectorised call.

        Keys the model does not know are ignored and missing columns are missing values (the tabular
        pipelines impute them), but a record sharing no column with the model is refused: it is surely
        meant for another model. Values the model cannot take raise InvalidInputError.
        """
        if self.takes_text:
            raise invalid_input(f"Model {self.name!r} version {self.version} takes texts, not records.")
        frame = _records_frame(self, records)
        try:
            return self._predict(frame)
        except (ValueError, TypeError, KeyError) as exc:
            raise invalid_input(
                f"Model {self.name!r} version {self.version} cannot take this input: {type(exc).__name__}: "
                f"{str(exc)[:300]}"
            ) from exc

    def _predict(self, frame: pd.DataFrame) -> list[Prediction]:
        if len(frame) == 0:
            return []
        model = self.model
        if not self.classes or not hasattr(model, "predict_proba"):
            return [
                Prediction(label=_scalar(value), score=None, probabilities=None)
                for value in _flat(model.predict(frame))
            ]
        proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
        thresholded = _labels_from_threshold(model, proba)
        labels = list(thresholded) if thresholded is not None else _flat(model.predict(frame))
        return self._answers(labels, proba)

    def _answers(self, labels: Sequence[Any] | np.ndarray[Any, Any], proba: np.ndarray[Any, Any]) -> list[Prediction]:
        binary = proba.shape[1] == 2
        return [
            Prediction(
                label=_scalar(label),
                score=float(row[1]) if binary else float(row.max()),
                probabilities={name: float(p) for name, p in zip(self.classes, row, strict=True)},
            )
            for label, row in zip(labels, proba, strict=True)
        ]


def _records_frame(model: LoadedModel, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The rows as the pipeline saw them in training: numeric columns as floats, text columns as object,
    every missing value (absent key or None) as NaN."""
    columns = model.input_columns
    known = set(columns)
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise invalid_input(f"Record {index} for model {model.name!r} version {model.version} is not a mapping.")
        if columns and record and not known.intersection(record):
            raise invalid_input(
                f"Record {index} has none of the columns of model {model.name!r} version {model.version} "
                f"({', '.join(columns)})."
            )
    frame = pd.DataFrame.from_records([dict(record) for record in records], columns=columns or None)
    for column, kind in model.input_types.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        if kind in _NUMERIC_TYPES:
            try:
                frame[column] = pd.to_numeric(values, errors="raise").astype(np.float64)
            except (ValueError, TypeError) as exc:
                raise invalid_input(
                    f"Column {column!r} of model {model.name!r} version {model.version} takes numbers: {exc}"
                ) from exc
        elif kind == "string":
            frame[column] = values.astype(object).where(values.notna(), np.nan)
    return frame


def _labels_from_threshold(model: Any, proba: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
    """The labels FixedThresholdClassifier.predict would give, from probabilities already computed.

    Saves a second pass through the pipeline (TF-IDF dominates a text model's cost) for the one wrapper
    our training uses; any other model answers None and gets `model.predict`.
    """
    from sklearn.model_selection import FixedThresholdClassifier

    if not isinstance(model, FixedThresholdClassifier) or model.pos_label is not None:
        return None
    if model.response_method != "predict_proba" or not isinstance(model.threshold, int | float):
        return None
    classes = np.asarray(model.classes_)
    if classes.shape != (2,) or proba.shape[1] != 2:
        return None
    labels: np.ndarray[Any, Any] = classes[(proba[:, 1] >= model.threshold).astype(int)]
    return labels


def _flat(values: Any) -> list[Any]:
    if isinstance(values, pd.DataFrame | pd.Series):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"expected one prediction per row, got an array of shape {array.shape}")
    return list(array)


def _scalar(value: Any) -> str | int | float:
    """numpy scalars become Python ones; anything else non-scalar becomes its str."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str | int | float):
        return value
    return str(value)
