"""The training job itself, run in a child process: load, train, log to MLflow, register, alias.

It reports to the service through a multiprocessing queue of small tuples:
("run", run_id), ("progress", percent, step), ("log", message), ("result", {...}), ("error", message).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from mlsec.core.logging import configure_logging
from mlsec.core.process import die_with_parent
from mlsec.ml.datasets import DatasetFormat, Task, load_dataset
from mlsec.ml.registry import CHALLENGER, CHAMPION

TRUSTED_PREFIXES = ("sklearn.", "mlsec.", "numpy.", "scipy.", "builtins.")
logger = logging.getLogger("mlsec.training.worker")


class Outbox(Protocol):
    def put(self, item: tuple[Any, ...]) -> None: ...


@dataclass(frozen=True)
class DatasetRef:
    """A stored dataset version, as the worker needs it."""

    name: str
    version: int
    path: str
    format: DatasetFormat
    sha256: str
    text_column: str | None
    label_column: str
    feature_columns: list[str] | None = None


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs; picklable, so it crosses the process boundary."""

    job_id: str
    model_name: str
    task: Task
    datasets: list[DatasetRef]
    evaluation: DatasetRef | None
    test_size: float
    params: dict[str, Any]
    tracking_uri: str
    log_level: str = "INFO"
    parent_pid: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


def _load(ref: DatasetRef, task: Task) -> pd.DataFrame:
    return load_dataset(
        Path(ref.path),
        fmt=ref.format,
        task=task,
        text_column=ref.text_column or "text",
        label_column=ref.label_column,
        feature_columns=ref.feature_columns,
    )


def _train(spec: JobSpec, report: Any) -> Any:
    from mlsec.ml import training
    from mlsec.ml.text_model import TextModelParams

    frame = pd.concat([_load(ref, spec.task) for ref in spec.datasets], ignore_index=True)
    if spec.task == "text_classification":
        test = _load(spec.evaluation, spec.task) if spec.evaluation else None
        return training.train_text_classifier(
            frame, params=TextModelParams.from_dict(spec.params), test=test, test_size=spec.test_size, progress=report
        )
    if spec.task not in ("tabular_classification", "tabular_regression"):
        raise ValueError(f"unknown task {spec.task!r}")
    return training.train_tabular(
        frame,
        task=spec.task,
        params=training.TabularParams.from_dict(spec.params),
        test_size=spec.test_size,
        progress=report,
    )


def _trusted_types(model: Any) -> list[str]:
    """The types skops would refuse by default; we built the model ourselves, from these packages only."""
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    refused = [name for name in untrusted if not name.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise RuntimeError(f"model contains types we do not trust to load: {refused}")
    return list(untrusted)


def _pip_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in ("scikit-learn", "skops", "pandas", "numpy", "scipy")]


def _log_to_mlflow(spec: JobSpec, result: Any, outbox: Outbox) -> dict[str, Any]:
    # MLflow would copy the uv.lock of whatever project it runs in (index URLs included) into every
    # model; the pinned pip requirements below describe the model's environment instead.
    os.environ.setdefault("MLFLOW_LOG_UV_FILES", "false")
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    from mlsec.ml.projection import PROJECTION_ARTIFACT
    from mlsec.ml.threshold import with_threshold

    mlflow.set_tracking_uri(spec.tracking_uri)
    mlflow.set_experiment(spec.model_name)
    client = MlflowClient(tracking_uri=spec.tracking_uri, registry_uri=spec.tracking_uri)
    data_hash = ",".join(ref.sha256 for ref in spec.datasets)
    with mlflow.start_run(run_name=f"job-{spec.job_id}") as run:
        outbox.put(("run", run.info.run_id, run.info.experiment_id))
        mlflow.set_tags({"mlsec.job_id": spec.job_id, "mlsec.task": spec.task, **spec.tags})
        mlflow.log_params(
            {
                "task": spec.task,
                "test_size": spec.test_size,
                "data_sha256": data_hash,
                "datasets": ",".join(f"{r.name}:v{r.version}" for r in spec.datasets),
                "evaluation_dataset": f"{spec.evaluation.name}:v{spec.evaluation.version}"
                if spec.evaluation
                else "split",
                **{f"param.{k}": v for k, v in spec.params.items()},
            }
        )
        mlflow.log_metrics({k: float(v) for k, v in result.metrics.items()})
        outbox.put(("progress", 85, "logging artifacts"))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, png in result.plots.items():
                (folder / name).write_bytes(png)
            if result.classification_report is not None:
                (folder / "classification_report.json").write_text(json.dumps(result.classification_report, indent=2))
            (folder / "training_data.json").write_text(
                json.dumps(
                    {
                        "sha256": data_hash,
                        "datasets": [r.__dict__ for r in spec.datasets],
                        "threshold": result.threshold,
                        "classes": result.classes,
                    },
                    indent=2,
                    default=str,
                )
            )
            mlflow.log_artifacts(str(folder))
            (folder / "reference").mkdir()
            (folder / "reference" / "profile.json").write_text(json.dumps(result.profile))
            if result.projection is not None:  # what serving applies to live texts for the profile's proj_*
                result.projection.save(folder / PROJECTION_ARTIFACT)
            mlflow.log_artifacts(str(folder / "reference"), artifact_path="reference")
        outbox.put(("progress", 92, "registering model"))
        example = result.input_example
        model = result.model if result.threshold is None else with_threshold(result.model, result.threshold, example)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=spec.model_name,
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            skops_trusted_types=_trusted_types(model),
            pip_requirements=_pip_requirements(),
        )
        version = str(info.registered_model_version)
        tags = {"mlsec.job_id": spec.job_id, "mlsec.task": spec.task, "mlsec.data_sha256": data_hash}
        if result.threshold is not None:
            tags["mlsec.threshold"] = f"{result.threshold:.6f}"
        for key, value in tags.items():
            client.set_model_version_tag(spec.model_name, version, key, value)
        aliases = client.get_registered_model(spec.model_name).aliases or {}
        alias = CHALLENGER if CHAMPION in aliases else CHAMPION
        client.set_registered_model_alias(spec.model_name, alias, version)
        return {
            "run_id": run.info.run_id,
            "model_version": version,
            "alias": alias,
            "metrics": result.metrics,
            "training_seconds": result.metrics.get("training_seconds"),
        }


def train_and_register(spec: JobSpec, outbox: Outbox) -> dict[str, Any]:
    """Train, log and register: the whole job, reporting to `outbox`; the result payload."""
    started = time.monotonic()

    def report(percent: int, step: str) -> None:
        outbox.put(("progress", min(80, int(percent * 0.8)), step))

    outbox.put(
        (
            "log",
            f"training {spec.model_name} ({spec.task}) on {', '.join(f'{r.name} v{r.version}' for r in spec.datasets)}",
        )
    )
    result = _train(spec, report)
    outbox.put(
        (
            "log",
            "held-out metrics: "
            + ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()) if isinstance(v, float)),
        )
    )
    payload = _log_to_mlflow(spec, result, outbox)
    payload["elapsed_seconds"] = round(time.monotonic() - started, 3)
    return payload


def run_job(spec: JobSpec, outbox: Outbox) -> None:
    """Entry point of the child process; every outcome ends with a "result" or "error" message."""
    die_with_parent(parent_pid=spec.parent_pid)
    configure_logging("training", spec.log_level)
    try:
        outbox.put(("result", train_and_register(spec, outbox)))
    except Exception as exc:
        logger.error(
            "training.job.failed",
            extra={
                "job_id": spec.job_id,
                "error_type": type(exc).__name__,
                "stack": "".join(traceback.format_tb(exc.__traceback__)),
            },
        )
        outbox.put(("error", f"{type(exc).__name__}: {str(exc)[:500]}"))
