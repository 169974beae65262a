"""One registered model version in memory, and the blocking MLflow calls that find and load it.

Everything here blocks (MLflow's client is synchronous, prediction is CPU-bound); the repository runs it
in worker threads. The MLflow client is always built from the tracking URI passed in, never from
MLflow's global state, so one process can serve from any registry without `mlflow.set_tracking_uri`.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlsec.ml.compiled_text import CompiledTextClassifier, NotCompilableError, compile_text_classifier
from mlsec.ml.projection import PROJECTION_ARTIFACT, TextProjector, load_projection
from mlsec.serving.errors import (
    InvalidInputError,
    ModelLoadError,
    ModelNotFoundError,
    RegistryUnavailableError,
    VersionNotFoundError,
)

logger = logging.getLogger("mlsec.serving.model")
TASK_TAG = "mlsec.task"
THRESHOLD_TAG = "mlsec.threshold"
TEXT_TASK = "text_classification"
TEXT_COLUMN = "text"
_NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
# MLflow error codes that mean "no such model / version / alias" rather than "MLflow is broken".
_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"})
# A dead MLflow should fail a request in seconds; MLflow's defaults retry for minutes.
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}


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
            raise InvalidInputError(f"Model {self.name!r} version {self.version} takes records, not texts.")
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
            raise InvalidInputError(f"Model {self.name!r} version {self.version} takes texts, not records.")
        frame = _records_frame(self, records)
        try:
            return self._predict(frame)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInputError(
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
            raise InvalidInputError(
                f"Record {index} for model {model.name!r} version {model.version} is not a mapping."
            )
        if columns and record and not known.intersection(record):
            raise InvalidInputError(
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
                raise InvalidInputError(
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


# --- MLflow ------------------------------------------------------------------------------------------


_import_lock = threading.Lock()


@functools.cache
def _mlflow() -> Any:
    """MLflow with the modules we use imported once, quietly: importing mlflow.pyfunc warns about MLflow's
    own type hints (a UserWarning that is an error wherever warnings are, e.g. under pytest)."""
    with _import_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow
        import mlflow.artifacts
        import mlflow.models
        import mlflow.pyfunc
        import mlflow.sklearn

    return mlflow


def _client(tracking_uri: str) -> Any:
    for key, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    return _mlflow().MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _is_not_found(exc: Exception) -> bool:
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code in _NOT_FOUND_CODES


def _unavailable(exc: Exception) -> RegistryUnavailableError:
    return RegistryUnavailableError(f"The MLflow registry is unavailable: {type(exc).__name__}: {str(exc)[:300]}")


def _model_exists(client: Any, name: str) -> bool:
    try:
        client.get_registered_model(name)
    except Exception as exc:
        if _is_not_found(exc):
            return False
        raise _unavailable(exc) from exc
    return True


def resolve_version(tracking_uri: str, name: str, version: str | None, *, default_alias: str = "champion") -> str:
    """Blocking: the version number that `version` means (None: the default alias; digits: that version,
    checked to exist; anything else: an alias)."""
    client = _client(tracking_uri)
    reference = default_alias if version is None else version
    try:
        if reference.isdigit():
            found = client.get_model_version(name, reference)
        else:
            found = client.get_model_version_by_alias(name, reference)
    except Exception as exc:
        if not _is_not_found(exc):
            raise _unavailable(exc) from exc
        if not _model_exists(client, name):
            raise ModelNotFoundError(name) from exc
        raise VersionNotFoundError(name, reference) from exc
    return str(found.version)


def registered_champions(tracking_uri: str, alias: str = "champion") -> list[str]:
    """Blocking: the names of registered models that have `alias`, sorted."""
    client = _client(tracking_uri)
    names: list[str] = []
    token: str | None = None
    try:
        while True:
            page = client.search_registered_models(max_results=1000, page_token=token)
            names.extend(model.name for model in page if alias in (getattr(model, "aliases", None) or {}))
            token = getattr(page, "token", None)
            if not token:
                break
    except Exception as exc:
        raise _unavailable(exc) from exc
    return sorted(names)


def _input_types(signature: Any) -> dict[str, str]:
    """Column -> MLflow type name, for column-based signatures (tensor signatures have none)."""
    if signature is None:
        return {}
    try:
        types = signature.inputs.input_types_dict()
    except Exception:
        return {}
    return {str(column): str(getattr(kind, "name", kind)) for column, kind in types.items()}


def _tree_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _task(tags: Mapping[str, str], input_columns: list[str], classes: list[str]) -> str:
    """The version's mlsec.task tag; without one, guess from the signature (text models have one "text"
    column; no signature and classes: assume our text classifier) and the presence of classes."""
    tagged = tags.get(TASK_TAG)
    if tagged:
        return tagged
    if input_columns == [TEXT_COLUMN] or (not input_columns and classes):
        return TEXT_TASK
    return "tabular_classification" if classes else "tabular_regression"


def _threshold(tags: Mapping[str, str]) -> float | None:
    try:
        return float(tags[THRESHOLD_TAG])
    except (KeyError, ValueError):
        return None


def load_model(
    tracking_uri: str, name: str, version: str, *, compile_text: bool = True, projection: bool = True
) -> LoadedModel:
    """Blocking: download `models:/{name}/{version}` and deserialise it (sklearn flavor through skops, with
    the allow-list recorded at logging time; other flavors as pyfunc, predict only).

    With `compile_text`, a text classifier also gets its compiled inference path (checked against the
    pipeline on probe texts and the model's input example); a model that cannot be compiled is served by
    its pipeline, with the reason in `inference_note`. With `projection`, a text classifier whose training
    run logged `reference/projection.npz` gets the projector of its proj_* drift features; without one
    (older models) or with one that does not fit, it is served all the same.

    Any failure, the registry's included, raises ModelLoadError: callers resolve the version first, so
    a failure here means the registered content is unusable.
    """
    started = time.perf_counter()
    source = f"models:/{name}/{version}"
    workdir = Path(tempfile.mkdtemp(prefix="mlsec-serving-"))
    keep_files = False
    try:
        mlflow = _mlflow()
        client = _client(tracking_uri)
        found = client.get_model_version(name, version)
        download_uri = client.get_model_version_download_uri(name, version)
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=download_uri, tracking_uri=tracking_uri, dst_path=str(workdir)
            )
        )
        size = _tree_bytes(local)
        meta = mlflow.models.Model.load(str(local))
        signature = meta.signature
        input_columns = [str(c) for c in signature.inputs.input_names()] if signature is not None else []
        input_types = _input_types(signature)
        tags = dict(found.tags or {})
        compiled: CompiledTextClassifier | None = None
        projector: TextProjector | None = None
        note: str | None = None
        if "sklearn" in meta.flavors:
            model = mlflow.sklearn.load_model(str(local))
            classes = [str(c) for c in getattr(model, "classes_", [])]
            text = _task(tags, input_columns, classes).startswith("text")
            if compile_text and text:
                compiled, note = _compiled(model, _example_texts(meta, local))
            if projection and text and found.run_id:
                projector = _projector(client, found.run_id, model, workdir, compile_features=compile_text)
        else:
            model = mlflow.pyfunc.load_model(str(local))
            classes = []
            keep_files = True  # a pyfunc model may read its files lazily
        loaded = LoadedModel(
            name=name,
            version=str(version),
            run_id=found.run_id or None,
            task=_task(tags, input_columns, classes),
            threshold=_threshold(tags),
            classes=classes,
            source=source,
            size_bytes=size,
            load_seconds=time.perf_counter() - started,
            loaded_at=datetime.now(UTC),
            input_columns=input_columns,
            model=model,
            input_types=input_types,
            compiled=compiled,
            inference_note=note,
            projector=projector,
        )
    except Exception as exc:
        raise ModelLoadError(name, str(version), f"{type(exc).__name__}: {str(exc)[:500]}") from exc
    finally:
        if not keep_files:
            shutil.rmtree(workdir, ignore_errors=True)
    if keep_files:
        weakref.finalize(loaded, shutil.rmtree, workdir, True)  # the files go when the model does
    return loaded


def _compiled(model: Any, examples: list[str]) -> tuple[CompiledTextClassifier | None, str | None]:
    """The compiled path, or the reason the pipeline serves. The compiled path is an optimisation: even an
    unexpected error while building or checking it must not keep a loadable model from being served."""
    try:
        return compile_text_classifier(model, examples), None
    except NotCompilableError as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"compiling failed: {type(exc).__name__}: {str(exc)[:200]}"


def _projector(client: Any, run_id: str, model: Any, workdir: Path, *, compile_features: bool) -> TextProjector | None:
    """The proj_* projector from the run's projection artifact, or None: absent (a model trained before
    projections, logged at info) or unusable (MLflow failing, a file that does not fit the model: a warning).
    Drift features are an extra; they never keep a model from being served."""
    folder, _, file_name = PROJECTION_ARTIFACT.rpartition("/")
    try:
        if file_name not in {Path(entry.path).name for entry in client.list_artifacts(run_id, folder)}:
            logger.info("serving.projection.absent", extra={"run_id": run_id})
            return None
        target = workdir / "projection"
        target.mkdir(exist_ok=True)
        path = client.download_artifacts(run_id, PROJECTION_ARTIFACT, dst_path=str(target))
        return TextProjector.for_model(model, load_projection(Path(path)), compile_features=compile_features)
    except Exception as exc:
        logger.warning(
            "serving.projection.unusable",
            extra={"run_id": run_id, "error": f"{type(exc).__name__}: {str(exc)[:200]}"},
        )
        return None


def _example_texts(meta: Any, local: Path) -> list[str]:
    """The texts of the model's logged input example (extra probes for the compiled path), if any."""
    try:
        example = meta.load_input_example(str(local))
    except Exception:  # an unreadable example only costs probes
        return []
    if isinstance(example, pd.DataFrame) and example.shape[1] >= 1:
        column = TEXT_COLUMN if TEXT_COLUMN in example.columns else example.columns[0]
        return [value for value in example[column].tolist() if isinstance(value, str)][:100]
    return []
