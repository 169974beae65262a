"""Clients of the two serving services: the model API (port 8000) and the model cache (port 8003)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint
from mlsec.core.traffic import PRODUCTION, TRAFFIC_CLASS_HEADER, TrafficClass


def _selector(model_name: str | None, version: str | None) -> dict[str, str]:
    return {k: v for k, v in {"model_name": model_name, "version": version}.items() if v is not None}


def traffic_headers(traffic_class: TrafficClass | None) -> dict[str, str] | None:
    """The header that marks predictions as not production (None: production, no header)."""
    return {TRAFFIC_CLASS_HEADER: traffic_class} if traffic_class and traffic_class != PRODUCTION else None


class _Predictions(ServiceClient):
    """The routes of the shared serving layer, the same on both services: predictions, the prediction log and
    its privacy edge (`/privacy/...`, what the data-privacy service reads and asks of each log)."""

    @endpoint("POST", "/predict", operation="prediction")
    async def predict(
        self,
        text: str,
        *,
        model_name: str | None = None,
        version: str | None = None,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`POST /predict`; `traffic_class` marks traffic that is not production (mlsec.core.traffic)."""
        body = {"text": text, **_selector(model_name, version)}
        headers = traffic_headers(traffic_class)
        return dict((await self.request("POST", "/predict", operation="prediction", json=body, headers=headers)).json())

    async def predict_features(
        self,
        features: dict[str, Any],
        *,
        model_name: str | None = None,
        version: str | None = None,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`POST /predict` with one row of features (tabular models)."""
        body = {"features": features, **_selector(model_name, version)}
        headers = traffic_headers(traffic_class)
        return dict((await self.request("POST", "/predict", operation="prediction", json=body, headers=headers)).json())

    @endpoint("POST", "/predict/batch", operation="prediction")
    async def predict_batch(
        self,
        texts: list[str],
        *,
        model_name: str | None = None,
        version: str | None = None,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`POST /predict/batch`; `traffic_class` as for `predict`."""
        body = {"texts": texts, **_selector(model_name, version)}
        headers = traffic_headers(traffic_class)
        return dict(
            (await self.request("POST", "/predict/batch", operation="prediction", json=body, headers=headers)).json()
        )

    @endpoint("GET", "/predictions/log")
    async def get_prediction_log(
        self,
        model_name: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after_id: int = 0,
        limit: int = 1000,
        newest_first: bool = False,
        include_text: bool = False,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`GET /predictions/log`: a model's logged predictions (features, score, label), paged by id; of one
        traffic class, or of all when None."""
        params: dict[str, Any] = {
            "model_name": model_name,
            "after_id": after_id,
            "limit": limit,
            "newest_first": newest_first,
            "include_text": include_text,
        }
        if traffic_class is not None:
            params["traffic_class"] = traffic_class
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        return dict(await self.get_json("/predictions/log", params=params))

    @endpoint("GET", "/privacy/status")
    async def get_privacy_status(self) -> dict[str, Any]:
        """`GET /privacy/status`: whether text is stored and anonymized, rows, rows with text, the oldest row's time."""
        return dict(await self.get_json("/privacy/status"))

    @endpoint("POST", "/privacy/subjects", operation="training")
    async def privacy_subjects(self, value_hashes: list[str], *, erase: bool = False) -> dict[str, Any]:
        """`POST /privacy/subjects`: the rows whose stored text carries any of the subjects' keyed hashes (`rows`);
        `erase` deletes them (`rows_removed`). A scan of the log: the long timeout class."""
        body = {"value_hashes": list(value_hashes), "erase": erase}
        return dict((await self.request("POST", "/privacy/subjects", operation="training", json=body)).json())

    @endpoint("POST", "/privacy/retention", operation="training")
    async def privacy_retention(self, older_than: datetime, *, dry_run: bool = True) -> dict[str, Any]:
        """`POST /privacy/retention`: rows logged before `older_than` (timezone-aware) are counted (`matched`) and,
        unless `dry_run`, deleted in batches (`deleted`)."""
        body = {"older_than": older_than.isoformat(), "dry_run": dry_run}
        return dict((await self.request("POST", "/privacy/retention", operation="training", json=body)).json())


class ModelAPIClient(_Predictions):
    """The model API: predictions, loaded models, and the V2 and MLflow protocols."""

    @endpoint("GET", "/models", cache="model_info")
    async def get_models(self) -> dict[str, Any]:
        """`GET /models`."""
        return dict(await self.get_json("/models"))

    @endpoint("GET", "/models/{model_name}", cache="model_info")
    async def get_model(self, model_name: str) -> dict[str, Any]:
        """`GET /models/{name}`."""
        return dict(await self.get_json(f"/models/{model_name}"))

    @endpoint("POST", "/models/load", operation="training")
    async def load_model(self, model_name: str, version: str | None = None) -> dict[str, Any]:
        """`POST /models/load`."""
        body = _selector(model_name, version)
        return dict((await self.request("POST", "/models/load", operation="training", json=body)).json())

    @endpoint("POST", "/models/unload")
    async def unload_model(self, model_name: str, version: str | None = None) -> dict[str, Any]:
        """`POST /models/unload`."""
        return dict((await self.request("POST", "/models/unload", json=_selector(model_name, version))).json())

    @endpoint("POST", "/models/batch-load", operation="training")
    async def batch_load_models(self, models: list[dict[str, str]]) -> dict[str, Any]:
        """`POST /models/batch-load`."""
        body = {"models": models}
        return dict((await self.request("POST", "/models/batch-load", operation="training", json=body)).json())

    @endpoint("POST", "/models/warm-cache/{model_name}", operation="training")
    async def warm_cache(self, model_name: str) -> dict[str, Any]:
        """`POST /models/warm-cache/{name}`."""
        return dict((await self.request("POST", f"/models/warm-cache/{model_name}", operation="training")).json())

    @endpoint("GET", "/v2/health/live", operation="health")
    async def v2_live(self) -> dict[str, Any]:
        """`GET /v2/health/live`."""
        return dict(await self.get_json("/v2/health/live", operation="health"))

    @endpoint("GET", "/v2/health/ready", operation="health")
    async def v2_ready(self) -> dict[str, Any]:
        """`GET /v2/health/ready`."""
        return dict(await self.get_json("/v2/health/ready", operation="health"))

    @endpoint("GET", "/v2/models/{model_name}")
    @endpoint("GET", "/v2/models/{model_name}/versions/{version}")
    async def v2_model(self, model_name: str, version: str | None = None) -> dict[str, Any]:
        """`GET /v2/models/{name}[/versions/{v}]`."""
        path = f"/v2/models/{model_name}" + (f"/versions/{version}" if version else "")
        return dict(await self.get_json(path))

    @endpoint("GET", "/v2/models/{model_name}/ready")
    @endpoint("GET", "/v2/models/{model_name}/versions/{version}/ready")
    async def v2_model_ready(self, model_name: str, version: str | None = None) -> dict[str, Any]:
        """`GET /v2/models/{name}[/versions/{v}]/ready`."""
        path = f"/v2/models/{model_name}" + (f"/versions/{version}" if version else "") + "/ready"
        return dict(await self.get_json(path))

    @endpoint("POST", "/v2/models/{model_name}/infer", operation="prediction")
    @endpoint("POST", "/v2/models/{model_name}/versions/{version}/infer", operation="prediction")
    async def v2_infer(
        self,
        model_name: str,
        inputs: list[dict[str, Any]],
        *,
        version: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """`POST /v2/models/{name}[/versions/{v}]/infer`."""
        path = f"/v2/models/{model_name}" + (f"/versions/{version}" if version else "") + "/infer"
        body: dict[str, Any] = {"inputs": inputs}
        if request_id:
            body["id"] = request_id
        return dict((await self.request("POST", path, operation="prediction", json=body)).json())

    @endpoint("POST", "/invocations", operation="prediction")
    async def invocations(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`POST /invocations` (MLflow's scoring protocol)."""
        return dict((await self.request("POST", "/invocations", operation="prediction", json=payload)).json())


class ModelCacheClient(_Predictions):
    """The model cache: predictions from preloaded models, cache state, config and logs."""

    @endpoint("GET", "/")
    async def get_info(self) -> dict[str, Any]:
        """`GET /`."""
        return dict(await self.get_json("/"))

    @endpoint("GET", "/models", cache="model_info")
    async def get_models(self) -> dict[str, Any]:
        """`GET /models`."""
        return dict(await self.get_json("/models"))

    @endpoint("POST", "/models/{model_name}/load", operation="training")
    async def load_model(self, model_name: str, version: str | None = None) -> dict[str, Any]:
        """`POST /models/{name}/load`."""
        body = {"version": version} if version else None
        return dict((await self.request("POST", f"/models/{model_name}/load", operation="training", json=body)).json())

    @endpoint("POST", "/models/{model_name}/unload")
    async def unload_model(self, model_name: str, version: str | None = None) -> dict[str, Any]:
        """`POST /models/{name}/unload`."""
        body = {"version": version} if version else None
        return dict((await self.request("POST", f"/models/{model_name}/unload", json=body)).json())

    @endpoint("GET", "/stats")
    async def get_stats(self) -> dict[str, Any]:
        """`GET /stats`."""
        return dict(await self.get_json("/stats"))

    @endpoint("POST", "/clear-cache")
    async def clear_cache(self) -> dict[str, Any]:
        """`POST /clear-cache`."""
        return dict((await self.request("POST", "/clear-cache")).json())

    @endpoint("GET", "/config")
    async def get_config(self) -> dict[str, Any]:
        """`GET /config`."""
        return dict(await self.get_json("/config"))

    @endpoint("PUT", "/config")
    async def update_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """`PUT /config`."""
        return dict((await self.request("PUT", "/config", json=config)).json())

    @endpoint("GET", "/logs")
    async def get_logs(self, *, kind: str | None = None, limit: int = 100) -> dict[str, Any]:
        """`GET /logs`."""
        params: dict[str, Any] = {"limit": limit, **({"kind": kind} if kind else {})}
        return dict(await self.get_json("/logs", params=params))

    @endpoint("GET", "/models/{model_name}/logs")
    async def get_model_logs(self, model_name: str, *, kind: str | None = None, limit: int = 100) -> dict[str, Any]:
        """`GET /models/{name}/logs`."""
        params: dict[str, Any] = {"limit": limit, **({"kind": kind} if kind else {})}
        return dict(await self.get_json(f"/models/{model_name}/logs", params=params))
