"""Registered models on a real MLflow server, for the serving services and the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from mlsec.services.training.service.worker import DatasetRef, JobSpec, train_and_register
from tests.api.training.conftest import prompts_csv


class _Outbox(list[tuple[Any, ...]]):
    def put(self, item: tuple[Any, ...]) -> None:
        self.append(item)


def register(tracking_uri: str, folder: Path, name: str, *, seed: int = 0, rows: int = 120) -> str:
    """Train a small prompt-injection model and register it, exactly as a training job does; the version."""
    data = folder / f"{name}-{seed}.csv"
    data.write_bytes(prompts_csv(rows, seed=seed))
    ref = DatasetRef(
        name=name,
        version=1,
        path=str(data),
        format="csv",
        sha256="0" * 64,
        text_column="prompt",
        label_column="is_attack",
    )
    spec = JobSpec(
        job_id=uuid.uuid4().hex[:16],
        model_name=name,
        task="text_classification",
        datasets=[ref],
        evaluation=None,
        test_size=0.2,
        params={"max_char_features": 2000, "max_word_features": 1000},
        tracking_uri=tracking_uri,
    )
    return str(train_and_register(spec, _Outbox())["model_version"])


def tabular_csv(
    rows: int, *, seed: int = 0, shift: float = 0.0, colours: tuple[str, ...] = ("red", "green", "blue")
) -> str:
    """A small, learnable tabular dataset (x1, x2, colour -> label "yes" when x1 + x2 > 0) as CSV text."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(shift, 1.0, rows).round(4),
            "x2": rng.normal(0.0, 1.0, rows).round(4),
            "colour": rng.choice(list(colours), rows),
        }
    )
    frame["label"] = np.where(frame["x1"] + frame["x2"] > 0, "yes", "no")
    return str(frame.to_csv(index=False))


def register_tabular(tracking_uri: str, folder: Path, name: str, *, rows: int = 200) -> str:
    """Train a small tabular classifier and register it, exactly as a training job does; the version."""
    data = folder / f"{name}.csv"
    data.write_text(tabular_csv(rows))
    ref = DatasetRef(
        name=name, version=1, path=str(data), format="csv", sha256="0" * 64, text_column=None, label_column="label"
    )
    spec = JobSpec(
        job_id=uuid.uuid4().hex[:16],
        model_name=name,
        task="tabular_classification",
        datasets=[ref],
        evaluation=None,
        test_size=0.2,
        params={"model": "linear"},
        tracking_uri=tracking_uri,
    )
    return str(train_and_register(spec, _Outbox())["model_version"])


@pytest.fixture(scope="session")
def registered(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """Register a model version: `registered(name, seed=...)` -> its version number."""
    folder = tmp_path_factory.mktemp("models")

    def make(name: str, *, seed: int = 0) -> str:
        return register(mlflow_server, folder, name, seed=seed)

    return make


@pytest.fixture(scope="session")
def served_model(registered: Callable[..., str]) -> str:
    """One model with a champion, shared by the read-only tests."""
    registered("serve-detector")
    return "serve-detector"


@pytest.fixture(scope="session")
def broken_model(mlflow_server: str) -> str:
    """A registered model whose only version's artifacts are not a loadable model."""
    client = MlflowClient(mlflow_server)
    name = "broken-detector"
    experiment = client.create_experiment(f"{name}-{uuid.uuid4().hex[:6]}")
    run = client.create_run(experiment)
    client.log_text(run.info.run_id, "this is not an MLmodel file: {", "model/MLmodel")
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    version = client.create_model_version(name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    return name
