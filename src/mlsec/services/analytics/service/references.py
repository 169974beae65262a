"""Reference profiles of model versions: the training-time baseline live traffic is compared against.

A profile is logged with every version's training run (`reference/profile.json`); a version never changes,
so each is read from MLflow once and kept.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mlsec.services.analytics.errors import ReferenceNotFoundError

PROFILE_ARTIFACT = "reference/profile.json"


class ReferenceCache:
    """Reference profiles by (model, version): read once from MLflow, then kept (a version never changes)."""

    def __init__(self) -> None:
        self._profiles: dict[tuple[str, str], dict[str, Any]] = {}

    async def get(self, tracking_uri: str, model_name: str, version: str, run_id: str) -> dict[str, Any]:
        key = (model_name, version)
        if key not in self._profiles:
            self._profiles[key] = await anyio.to_thread.run_sync(
                _download_profile, tracking_uri, model_name, version, run_id
            )
        return self._profiles[key]


def _download_profile(tracking_uri: str, model_name: str, version: str, run_id: str) -> dict[str, Any]:
    client = MlflowClient(tracking_uri)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = client.download_artifacts(run_id, PROFILE_ARTIFACT, dst_path=folder)
            profile: dict[str, Any] = json.loads(Path(path).read_text())
    except MlflowException as exc:
        raise ReferenceNotFoundError(model_name, version, f"MLflow: {exc.error_code}") from exc
    if not isinstance(profile.get("features"), dict):
        raise ReferenceNotFoundError(model_name, version, "the profile has no features")
    return profile


def reference_columns(profile: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The reference side of a check from a profile: numeric samples, categories expanded from their counts."""
    columns: dict[str, Any] = {}
    categorical: list[str] = []
    for name, feature in profile["features"].items():
        if feature.get("type") == "numeric" and feature.get("sample"):
            columns[name] = np.asarray(feature["sample"], dtype=np.float64)
        elif feature.get("type") == "categorical" and feature.get("counts"):
            columns[name] = [value for value, count in feature["counts"].items() for _ in range(int(count))]
            categorical.append(name)
    return columns, categorical
