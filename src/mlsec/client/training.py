"""Client of the training service (port 8002): one method per endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint

UPLOAD_CHUNK_BYTES = 1 << 20


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(UPLOAD_CHUNK_BYTES):
            yield chunk


class TrainingClient(ServiceClient):
    """Datasets, training jobs, training configs, the registry as the training service sees it, and its privacy
    edge (the personal data in its datasets)."""

    @endpoint("GET", "/models/models", cache="model_info")
    async def get_models(self, *, refresh: bool = False) -> dict[str, Any]:
        """`GET /models/models`."""
        return dict(await self.get_json("/models/models", params={"refresh": refresh}))

    @endpoint("GET", "/models/models/{model_name}", cache="model_info")
    async def get_model(self, model_name: str, *, refresh: bool = False) -> dict[str, Any]:
        """`GET /models/models/{name}`."""
        return dict(await self.get_json(f"/models/models/{model_name}", params={"refresh": refresh}))

    @endpoint("GET", "/models/model-registry", cache="model_info")
    async def get_model_registry(self, *, refresh: bool = False) -> dict[str, Any]:
        """`GET /models/model-registry`."""
        return dict(await self.get_json("/models/model-registry", params={"refresh": refresh}))

    @endpoint("GET", "/models/latest-models", cache="model_info")
    async def get_latest_models(self, *, refresh: bool = False) -> dict[str, Any]:
        """`GET /models/latest-models`."""
        return dict(await self.get_json("/models/latest-models", params={"refresh": refresh}))

    @endpoint("GET", "/training/jobs")
    async def get_training_jobs(
        self,
        *,
        status: str | None = None,
        model_name: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """`GET /training/jobs`."""
        params = {"status": status, "model_name": model_name, "kind": kind, "limit": limit, "offset": offset}
        return dict(await self.get_json("/training/jobs", params={k: v for k, v in params.items() if v is not None}))

    @endpoint("GET", "/training/jobs/{job_id}")
    async def get_training_job(self, job_id: str) -> dict[str, Any]:
        """`GET /training/jobs/{id}`."""
        return dict(await self.get_json(f"/training/jobs/{job_id}"))

    @endpoint("POST", "/training/jobs/{job_id}/cancel")
    async def cancel_training_job(self, job_id: str) -> dict[str, Any]:
        """`POST /training/jobs/{id}/cancel`."""
        return dict((await self.request("POST", f"/training/jobs/{job_id}/cancel")).json())

    @endpoint("POST", "/training/train", operation="training")
    async def train_model(self, model_name: str, **fields: Any) -> dict[str, Any]:
        """`POST /training/train`: fields left out come from the model's stored config."""
        body = {"model_name": model_name, **fields}
        return dict((await self.request("POST", "/training/train", json=body)).json())

    @endpoint("POST", "/training/retrain", operation="training")
    async def retrain_model(self, model_name: str, *, reason: str = "manual") -> dict[str, Any]:
        """`POST /training/retrain`."""
        body = {"model_name": model_name, "reason": reason}
        return dict((await self.request("POST", "/training/retrain", json=body)).json())

    @endpoint("GET", "/training/config/{model_name}")
    async def get_training_config(self, model_name: str) -> dict[str, Any]:
        """`GET /training/config/{model_name}`."""
        return dict(await self.get_json(f"/training/config/{model_name}"))

    @endpoint("PUT", "/training/config/{model_name}")
    async def update_training_config(self, model_name: str, config: dict[str, Any]) -> dict[str, Any]:
        """`PUT /training/config/{model_name}`."""
        return dict((await self.request("PUT", f"/training/config/{model_name}", json=config)).json())

    @endpoint("POST", "/data/upload-data", operation="training")
    async def upload_data(
        self,
        path: Path,
        *,
        name: str | None = None,
        task: str = "text_classification",
        text_column: str = "text",
        label_column: str = "label",
        feature_columns: list[str] | None = None,
    ) -> dict[str, Any]:
        """`POST /data/upload-data` (multipart form)."""
        form = {"task": task, "text_column": text_column, "label_column": label_column}
        if name:
            form["name"] = name
        if feature_columns:
            form["feature_columns"] = ",".join(feature_columns)
        with path.open("rb") as handle:
            response = await self.request(
                "POST", "/data/upload-data", operation="training", data=form, files={"file": (path.name, handle)}
            )
        return dict(response.json())

    @endpoint("POST", "/data/efficient/upload-large-file", operation="training")
    async def upload_large_file(
        self,
        path: Path,
        *,
        name: str | None = None,
        task: str = "text_classification",
        text_column: str = "text",
        label_column: str = "label",
        sha256: str | None = None,
    ) -> dict[str, Any]:
        """`POST /data/efficient/upload-large-file`: the file is streamed, never read whole."""
        params = {"filename": path.name, "task": task, "text_column": text_column, "label_column": label_column}
        if name:
            params["name"] = name
        if sha256:
            params["sha256"] = sha256
        response = await self.request(
            "POST",
            "/data/efficient/upload-large-file",
            operation="training",
            params=params,
            content=_file_chunks(path),
            headers={"content-type": "application/octet-stream"},
        )
        return dict(response.json())

    @endpoint("GET", "/data/datasets")
    async def get_datasets(self) -> dict[str, Any]:
        """`GET /data/datasets`."""
        return dict(await self.get_json("/data/datasets"))

    @endpoint("GET", "/data/datasets/{name}")
    async def get_dataset_versions(self, name: str) -> dict[str, Any]:
        """`GET /data/datasets/{name}`."""
        return dict(await self.get_json(f"/data/datasets/{name}"))

    @endpoint("GET", "/privacy/status")
    async def get_privacy_status(self) -> dict[str, Any]:
        """`GET /privacy/status`: dataset versions, those with PII, findings per type, distinct subject hashes."""
        return dict(await self.get_json("/privacy/status"))

    @endpoint("POST", "/privacy/subjects", operation="training")
    async def privacy_subjects(
        self, value_hashes: Sequence[str], *, erase: bool = False, retrain: bool = False
    ) -> dict[str, Any]:
        """`POST /privacy/subjects`: the dataset versions holding rows with any of these keyed hashes (at most
        10,000) and the model versions trained on them; `erase` rewrites the files without those rows
        (`rows_removed`), `retrain` (with `erase`) queues a retraining per affected model (`retrain_jobs`)."""
        body = {"value_hashes": list(value_hashes), "erase": erase, "retrain": retrain}
        return dict((await self.request("POST", "/privacy/subjects", operation="training", json=body)).json())

    @endpoint("POST", "/privacy/retention", operation="training")
    async def privacy_retention(self, older_than: datetime, *, dry_run: bool = True) -> dict[str, Any]:
        """`POST /privacy/retention`: dataset versions created before `older_than` (timezone-aware), never the
        newest of a name nor one a pending job uses, counted (`matched`) and unless `dry_run` deleted (`deleted`)."""
        body = {"older_than": older_than.isoformat(), "dry_run": dry_run}
        return dict((await self.request("POST", "/privacy/retention", operation="training", json=body)).json())
