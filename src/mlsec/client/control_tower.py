"""Client of the control tower (port 8010; seed 004): MLflow models by stage, monitored models, experiments and
runs, the registry cache.

The gateway caches none of these answers: the control tower is itself the registry's cache and says in each
answer how fresh it is (`Age`, `X-Mlsec-Stale`), which a second cache would hide.
"""

from __future__ import annotations

from typing import Any

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint


class ControlTowerClient(ServiceClient):
    """One typed method per route of seed 004."""

    @endpoint("GET", "/")
    async def get_info(self) -> dict[str, Any]:
        """`GET /`: name, status (ready once there is a registry to answer from), version, docs."""
        return dict(await self.get_json("/"))

    @endpoint("GET", "/config")
    async def get_config(self) -> dict[str, Any]:
        """`GET /config`: the effective configuration, without secrets."""
        return dict(await self.get_json("/config"))

    # --- models ------------------------------------------------------------------------------------------

    @endpoint("GET", "/models")
    async def get_production_models(self) -> list[dict[str, Any]]:
        """`GET /models`: versions in Production (holding champion)."""
        return list(await self.get_json("/models"))

    @endpoint("GET", "/models/production")
    async def get_production_models_explicit(self) -> list[dict[str, Any]]:
        """`GET /models/production`: the same as `/models`."""
        return list(await self.get_json("/models/production"))

    @endpoint("GET", "/models/all")
    async def get_all_models(self) -> list[dict[str, Any]]:
        """`GET /models/all`: every version of every registered model."""
        return list(await self.get_json("/models/all"))

    @endpoint("GET", "/models/staging")
    async def get_staging_models(self) -> list[dict[str, Any]]:
        """`GET /models/staging`: versions in Staging (holding challenger)."""
        return list(await self.get_json("/models/staging"))

    @endpoint("GET", "/model/{model_name}/versions")
    async def get_model_versions(self, model_name: str) -> list[dict[str, Any]]:
        """`GET /model/{name}/versions`: every version of one model, newest first."""
        return list(await self.get_json(f"/model/{model_name}/versions"))

    @endpoint("GET", "/model/{model_name}/drift")
    async def get_model_drift(self, model_name: str, *, days: int = 30) -> list[dict[str, Any]]:
        """`GET /model/{name}/drift`: each version's metrics over time (training run, production feedback)."""
        return list(await self.get_json(f"/model/{model_name}/drift", params={"days": days}))

    # --- monitoring --------------------------------------------------------------------------------------

    @endpoint("GET", "/models/monitored")
    async def get_monitored_models(self) -> list[dict[str, Any]]:
        """`GET /models/monitored`."""
        return list(await self.get_json("/models/monitored"))

    @endpoint("GET", "/models/monitored/classifier")
    async def get_monitored_classifiers(self) -> list[dict[str, Any]]:
        """`GET /models/monitored/classifier`."""
        return list(await self.get_json("/models/monitored/classifier"))

    @endpoint("GET", "/models/monitored/regressor")
    async def get_monitored_regressors(self) -> list[dict[str, Any]]:
        """`GET /models/monitored/regressor`."""
        return list(await self.get_json("/models/monitored/regressor"))

    @endpoint("POST", "/models/{model_name}/{model_version}/monitor")
    async def add_monitoring(
        self, model_name: str, model_version: str, *, model_type: str = "classifier", registered_by: str | None = None
    ) -> dict[str, Any]:
        """`POST /models/{name}/{version}/monitor`: 400 for a bad type or one already monitored, 404 when MLflow
        does not have the version."""
        body: dict[str, Any] = {"model_type": model_type}
        if registered_by is not None:
            body["registered_by"] = registered_by
        response = await self.request("POST", f"/models/{model_name}/{model_version}/monitor", json=body)
        return dict(response.json())

    @endpoint("DELETE", "/models/{model_name}/{model_version}/monitor")
    async def remove_monitoring(self, model_name: str, model_version: str) -> dict[str, Any]:
        """`DELETE /models/{name}/{version}/monitor`: 404 when the version is not monitored."""
        return dict((await self.request("DELETE", f"/models/{model_name}/{model_version}/monitor")).json())

    @endpoint("GET", "/models/{model_name}/{model_version}/monitor/status")
    async def get_monitoring_status(self, model_name: str, model_version: str) -> dict[str, Any]:
        """`GET /models/{name}/{version}/monitor/status`."""
        return dict(await self.get_json(f"/models/{model_name}/{model_version}/monitor/status"))

    # --- experiments -------------------------------------------------------------------------------------

    @endpoint("GET", "/experiments")
    async def get_experiments(self) -> list[dict[str, Any]]:
        """`GET /experiments`: every experiment with its run count."""
        return list(await self.get_json("/experiments"))

    @endpoint("GET", "/runs/{experiment_id}")
    async def get_runs(self, experiment_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """`GET /runs/{experiment_id}?limit=`: the newest runs, newest first."""
        return list(await self.get_json(f"/runs/{experiment_id}", params={"limit": limit}))

    # --- cache and summary -------------------------------------------------------------------------------

    @endpoint("GET", "/cache/info")
    async def get_cache_info(self) -> dict[str, Any]:
        """`GET /cache/info`: the snapshot's size, age, freshness and file."""
        return dict(await self.get_json("/cache/info"))

    @endpoint("POST", "/cache/refresh")
    async def refresh_cache(self) -> dict[str, Any]:
        """`POST /cache/refresh`: read MLflow now (503 when it cannot be read)."""
        return dict((await self.request("POST", "/cache/refresh", operation="training")).json())

    @endpoint("DELETE", "/cache/clear")
    async def clear_cache(self) -> dict[str, Any]:
        """`DELETE /cache/clear`: delete the snapshot file."""
        return dict((await self.request("DELETE", "/cache/clear")).json())

    @endpoint("GET", "/dashboard/summary")
    async def get_dashboard_summary(self) -> dict[str, Any]:
        """`GET /dashboard/summary`: experiments, runs, versions by stage, monitored models."""
        return dict(await self.get_json("/dashboard/summary"))

    @endpoint("GET", "/debug/monitored")
    async def get_debug_monitored(self) -> dict[str, Any]:
        """`GET /debug/monitored` (when the service has ENABLE_DEBUG_ENDPOINTS)."""
        return dict(await self.get_json("/debug/monitored"))
