"""Loading one registered version: download its files, deserialise them (skops, no pickle), and give a text
classifier its compiled inference path and its drift projection.

Everything here blocks; the repository runs it in worker threads, after resolving the version
(mlsec.serving.registry).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlsec.ml.compiled_text import CompiledTextClassifier, NotCompilableError, compile_text_classifier
from mlsec.ml.projection import PROJECTION_ARTIFACT, TextProjector, load_projection
from mlsec.serving.errors import ModelLoadError
from mlsec.serving.model import TEXT_COLUMN, LoadedModel
from mlsec.serving.registry import import_mlflow, mlflow_client

logger = logging.getLogger("mlsec.serving.model")  # the name its log lines have always had
TASK_TAG = "mlsec.task"
THRESHOLD_TAG = "mlsec.threshold"
TEXT_TASK = "text_classification"


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
        mlflow = import_mlflow()
        client = mlflow_client(tracking_uri)
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
