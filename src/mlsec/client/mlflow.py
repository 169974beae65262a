"""Client of the MLflow tracking server (port 5000): its REST API, through the same resilient transport.

Seed 000 lists `experiments/list`, `registered-models/list` and `model-versions/list`, which MLflow 2 removed;
their successors are the `search` endpoints used here. `artifacts/get-uri` does not exist in MLflow's REST
API; a model version's `source` (from `get_model_version`) is its artifact URI.
"""

from __future__ import annotations

from typing import Any

from mlsec.client.base import BaseClient
from mlsec.client.endpoint import endpoint

API = "/api/2.0/mlflow"


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class MLflowClient(BaseClient):
    """Experiments, runs, the model registry and artifacts; MLflow has no /health/* family beyond /health."""

    @endpoint("GET", "/health", operation="health")
    async def get_health(self) -> dict[str, Any]:
        """`GET /health`: MLflow answers the text "OK"."""
        response = await self.request("GET", "/health", operation="health")
        return {"status": "healthy" if response.text.strip() == "OK" else "unhealthy", "body": response.text[:100]}

    @endpoint("POST", f"{API}/experiments/search")
    async def search_experiments(
        self,
        *,
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        view_type: str | None = None,
    ) -> dict[str, Any]:
        """`POST /api/2.0/mlflow/experiments/search`; `view_type`: ACTIVE_ONLY (the default), DELETED_ONLY, ALL."""
        body = _present(filter=filter_string, max_results=max_results, page_token=page_token, view_type=view_type)
        return dict((await self.request("POST", f"{API}/experiments/search", json=body)).json())

    @endpoint("GET", f"{API}/experiments/get-by-name", cache="experiments")
    async def get_experiment_by_name(self, name: str) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/experiments/get-by-name`."""
        return dict(await self.get_json(f"{API}/experiments/get-by-name", params={"experiment_name": name}))

    @endpoint("POST", f"{API}/experiments/create")
    async def create_experiment(self, name: str, *, artifact_location: str | None = None) -> dict[str, Any]:
        """`POST /api/2.0/mlflow/experiments/create`."""
        body = _present(name=name, artifact_location=artifact_location)
        return dict((await self.request("POST", f"{API}/experiments/create", json=body)).json())

    @endpoint("POST", f"{API}/runs/search")
    async def search_runs(
        self,
        experiment_ids: list[str],
        *,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        """`POST /api/2.0/mlflow/runs/search`."""
        body = _present(
            experiment_ids=experiment_ids,
            filter=filter_string,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )
        return dict((await self.request("POST", f"{API}/runs/search", json=body)).json())

    @endpoint("GET", f"{API}/runs/get", cache="experiments")
    async def get_run(self, run_id: str) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/runs/get`."""
        return dict(await self.get_json(f"{API}/runs/get", params={"run_id": run_id}))

    @endpoint("GET", f"{API}/registered-models/search", cache="model_info")
    async def search_registered_models(
        self, *, filter_string: str | None = None, max_results: int = 100, page_token: str | None = None
    ) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/registered-models/search`."""
        params = _present(filter=filter_string, max_results=max_results, page_token=page_token)
        return dict(await self.get_json(f"{API}/registered-models/search", params=params))

    @endpoint("GET", f"{API}/registered-models/get", cache="model_info")
    async def get_registered_model(self, name: str) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/registered-models/get`."""
        return dict(await self.get_json(f"{API}/registered-models/get", params={"name": name}))

    @endpoint("POST", f"{API}/registered-models/create")
    async def create_registered_model(self, name: str, *, description: str | None = None) -> dict[str, Any]:
        """`POST /api/2.0/mlflow/registered-models/create`."""
        body = _present(name=name, description=description)
        return dict((await self.request("POST", f"{API}/registered-models/create", json=body)).json())

    @endpoint("GET", f"{API}/registered-models/alias", cache="model_info")
    async def get_model_version_by_alias(self, name: str, alias: str) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/registered-models/alias`: the version an alias (e.g. champion) points to."""
        return dict(await self.get_json(f"{API}/registered-models/alias", params={"name": name, "alias": alias}))

    @endpoint("POST", f"{API}/model-versions/create")
    async def create_model_version(self, name: str, source: str, *, run_id: str | None = None) -> dict[str, Any]:
        """`POST /api/2.0/mlflow/model-versions/create`."""
        body = _present(name=name, source=source, run_id=run_id)
        return dict((await self.request("POST", f"{API}/model-versions/create", json=body)).json())

    @endpoint("GET", f"{API}/model-versions/search", cache="model_info")
    async def search_model_versions(
        self, *, filter_string: str | None = None, max_results: int = 100, page_token: str | None = None
    ) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/model-versions/search`."""
        params = _present(filter=filter_string, max_results=max_results, page_token=page_token)
        return dict(await self.get_json(f"{API}/model-versions/search", params=params))

    @endpoint("GET", f"{API}/model-versions/get", cache="model_info")
    async def get_model_version(self, name: str, version: str) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/model-versions/get`."""
        return dict(await self.get_json(f"{API}/model-versions/get", params={"name": name, "version": version}))

    @endpoint("GET", "/get-artifact")
    async def get_artifact(self, run_id: str, path: str) -> bytes:
        """`GET /get-artifact`: one artifact file of a run, as stored (a plot's PNG, a report); the route the MLflow
        UI itself downloads with, outside the REST API."""
        response = await self.request("GET", "/get-artifact", params={"run_uuid": run_id, "path": path})
        return response.content

    @endpoint("GET", f"{API}/artifacts/list")
    async def list_artifacts(self, run_id: str, *, path: str | None = None) -> dict[str, Any]:
        """`GET /api/2.0/mlflow/artifacts/list`."""
        return dict(await self.get_json(f"{API}/artifacts/list", params=_present(run_id=run_id, path=path)))
