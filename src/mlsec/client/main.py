"""`MainAPIClient`: one client per service behind one pooled, resilient HTTP client, plus the orchestration
calls of seed 000 (health of everything, unified predictions with fallback, dashboard aggregations).

Service URLs come from settings (`MODEL_API_URL`, ... or host and port). Calls that ask several services
run concurrently; a service that fails is named in the answer's `unavailable` list instead of failing the
whole aggregation.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx

from mlsec.client.analytics import AnalyticsClient
from mlsec.client.base import BaseClient, ServiceCallError, ServiceClient, json_object
from mlsec.client.business_metrics import BusinessMetricsClient
from mlsec.client.control_tower import ControlTowerClient
from mlsec.client.data_privacy import DataPrivacyClient
from mlsec.client.ensemble import combine_votes
from mlsec.client.metrics_text import prediction_counts, request_counts
from mlsec.client.mlflow import MLflowClient
from mlsec.client.serving import ModelAPIClient, ModelCacheClient
from mlsec.client.tracing import TracingClient
from mlsec.client.training import TrainingClient
from mlsec.core.auth import load_api_key, platform_auth
from mlsec.core.http import PROBE_EXTENSIONS, BreakerRegistry, create_http_client
from mlsec.core.settings import Settings, load_settings
from mlsec.core.traffic import TrafficClass


def platform_http_client(
    settings: Settings, *, breakers: BreakerRegistry | None = None, api_key: str | None = None
) -> httpx.AsyncClient:
    """The resilient client the SDK and the CLI call the platform with: the internal service token (set, or
    left by `mlsec up` in MLSEC_HOME) to every service, the API key (`api_key`, else `MLSEC_API_KEY` or the
    credentials file) to the gateway only, nothing to another host. The caller closes it."""
    http = create_http_client(settings, breakers=breakers)
    if (auth := platform_auth(settings, api_key=api_key or load_api_key(settings))) is not None:
        http.auth = auth
    return http


# Service name (as the launcher and the URLs spell it) -> MainAPIClient attribute and client class.
CLIENT_CLASSES: dict[str, type[BaseClient]] = {
    "model-api": ModelAPIClient,
    "training": TrainingClient,
    "model-cache": ModelCacheClient,
    "business-metrics": BusinessMetricsClient,
    "analytics": AnalyticsClient,
    "data-privacy": DataPrivacyClient,
    "tracing": TracingClient,
    "control-tower": ControlTowerClient,
    "mlflow": MLflowClient,
}
SECURITY_SERVICES = ("analytics", "data-privacy", "tracing")


def service_name(name: str) -> str:
    """`model_api` or `model-api` -> `model-api`; KeyError naming the known services otherwise."""
    normalised = name.strip().lower().replace("_", "-")
    if normalised not in CLIENT_CLASSES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(CLIENT_CLASSES)}")
    return normalised


class MainAPIClient:
    """The SDK's entry point (seed 000); `APIClient` is the same class. Use it as an async context manager."""

    model_api: ModelAPIClient
    training: TrainingClient
    model_cache: ModelCacheClient
    business_metrics: BusinessMetricsClient
    analytics: AnalyticsClient
    data_privacy: DataPrivacyClient
    tracing: TracingClient
    control_tower: ControlTowerClient
    mlflow: MLflowClient

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        breakers: BreakerRegistry | None = None,
        api_key: str | None = None,
    ):
        """`http` (with its `breakers`) lets a service share its own pooled client; otherwise one is built
        here (`platform_http_client`) and closed by `aclose()`, sending the internal service token
        (`MLSEC_SERVICE_TOKEN`, else the one `mlsec up` left in MLSEC_HOME) to the services and the API key
        (`api_key`, else `MLSEC_API_KEY` or the credentials file) to the gateway only, never to another host."""
        self.settings = settings or load_settings()
        self.breakers = breakers or BreakerRegistry(
            fail_max=self.settings.breaker_fail_max, reset_timeout=self.settings.breaker_reset_timeout
        )
        self._owns_http = http is None
        if http is None:
            http = platform_http_client(self.settings, breakers=self.breakers, api_key=api_key)
        self.http = http
        self.clients: dict[str, BaseClient] = {}
        for name, client_class in CLIENT_CLASSES.items():
            url = self.settings.mlflow_uri if name == "mlflow" else self.settings.url_for(name)
            client = client_class(name, url, self.http, self.settings)
            self.clients[name] = client
            setattr(self, name.replace("-", "_"), client)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    def client(self, name: str) -> BaseClient:
        """The client of a service by name (`model_api` or `model-api`)."""
        return self.clients[service_name(name)]

    def circuit_state(self, name: str) -> str:
        """The circuit breaker state of a service's host: closed, open or half-open."""
        client = self.client(name)
        target = httpx.URL(client.base_url)
        port = target.port or (443 if target.scheme == "https" else 80)
        return self.breakers.state_of(f"{target.host}:{port}")

    # --- health -------------------------------------------------------------------------------------------

    async def get_service_health(self, name: str) -> dict[str, Any]:
        """One service's readiness: healthy (ready), degraded (up, a dependency down) or unreachable."""
        service = service_name(name)
        client = self.clients[service]
        started = time.perf_counter()
        entry: dict[str, Any] = {"service": service, "url": client.base_url}
        try:
            if isinstance(client, ServiceClient):
                # A probe sees the service as it is now: past its circuit breaker, without retries.
                response = await client.forward("GET", "/health/ready", operation="health", extensions=PROBE_EXTENSIONS)
                body = json_object(response)
                entry["status"] = "healthy" if response.status_code == 200 else "degraded"
                if response.status_code != 200:
                    entry["error"] = str(body.get("message") or f"HTTP {response.status_code}")
                entry["checks"] = body.get("checks") or body.get("details", {}).get("checks")
            else:
                response = await client.forward("GET", "/health", operation="health", extensions=PROBE_EXTENSIONS)
                entry["status"] = "healthy" if response.status_code == 200 else "degraded"
        except ServiceCallError as exc:
            entry["status"] = "unreachable"
            entry["error"] = str(exc)
        entry["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        entry["circuit"] = self.circuit_state(service)
        return entry

    async def get_all_services_health(self) -> dict[str, Any]:
        """Every service concurrently, with an overall score: the share of services fully healthy (0-100)."""
        names = list(self.clients)
        results = await asyncio.gather(*(self.get_service_health(name) for name in names))
        services = {entry["service"]: entry for entry in results}
        healthy = sum(entry["status"] == "healthy" for entry in results)
        reachable = sum(entry["status"] != "unreachable" for entry in results)
        if healthy == len(results):
            status = "healthy"
        elif reachable:
            status = "degraded"
        else:
            status = "unhealthy"
        return {
            "status": status,
            "overall_score": round(100.0 * healthy / len(results), 1),
            "healthy": healthy,
            "total": len(results),
            "services": services,
            "timestamp": datetime.now(UTC).isoformat(),
        }

    # --- predictions ---------------------------------------------------------------------------------------

    async def predict_unified(
        self,
        text: str,
        model_name: str | None = None,
        use_cache: bool = True,
        *,
        version: str | None = None,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """Predict through the model cache, falling back to the model API when the cache is down or failing.

        Input errors (4xx) are not retried elsewhere: the other service would refuse the same input.
        """
        if use_cache:
            try:
                result = await self.model_cache.predict(
                    text, model_name=model_name, version=version, traffic_class=traffic_class
                )
                return {**result, "served_by": "model-cache", "fallback": False}
            except ServiceCallError as exc:
                if not _is_outage(exc):
                    raise
                cache_error = str(exc)
        try:
            result = await self.model_api.predict(
                text, model_name=model_name, version=version, traffic_class=traffic_class
            )
        except ServiceCallError as exc:
            if use_cache and _is_outage(exc):
                raise ServiceCallError(
                    "model-cache and model-api", f"no prediction service answered ({cache_error}; {exc})"
                ) from exc
            raise
        return {**result, "served_by": "model-api", "fallback": use_cache}

    async def predict_batch_unified(
        self,
        texts: Sequence[str],
        ensemble: bool = False,
        *,
        model_name: str | None = None,
        model_names: Sequence[str] | None = None,
        use_cache: bool = True,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """A batch through the cache (fallback: the model API); with `ensemble`, every served model (or
        `model_names`) votes: the label is the majority (a tie flags the input: for a detector a miss costs
        more than a false alarm), the score the mean."""
        if not ensemble:
            return await self._batch_with_fallback(list(texts), model_name, use_cache, traffic_class)
        names = list(model_names or await self._served_model_names())
        if not names:
            raise ServiceCallError("model-api", "no model is loaded to form an ensemble")
        answers = await asyncio.gather(
            *(self._batch_with_fallback(list(texts), name, use_cache, traffic_class) for name in names)
        )
        return combine_votes(texts, names, answers)

    async def _batch_with_fallback(
        self, texts: list[str], model_name: str | None, use_cache: bool, traffic_class: TrafficClass | None
    ) -> dict[str, Any]:
        if use_cache:
            try:
                result = await self.model_cache.predict_batch(texts, model_name=model_name, traffic_class=traffic_class)
                return {**result, "served_by": "model-cache", "fallback": False}
            except ServiceCallError as exc:
                if not _is_outage(exc):
                    raise
        result = await self.model_api.predict_batch(texts, model_name=model_name, traffic_class=traffic_class)
        return {**result, "served_by": "model-api", "fallback": use_cache}

    async def _served_model_names(self) -> list[str]:
        listing = await self.model_api.get_models()
        names = sorted({str(model["name"]) for model in listing.get("models", [])})
        if not names and listing.get("default_model"):
            names = [str(listing["default_model"])]
        return names

    # --- aggregations --------------------------------------------------------------------------------------

    async def get_dashboard_overview(self) -> dict[str, Any]:
        """Health, served models, cache state, recent training jobs and the registry, in one concurrent round."""
        parts = await _gather(
            {
                "health": self.get_all_services_health(),
                "models": self.model_api.get_models(),
                "cache": self.model_cache.get_stats(),
                "training_jobs": self.training.get_training_jobs(limit=10),
                "registry": self.training.get_model_registry(),
            }
        )
        return {**parts, "timestamp": datetime.now(UTC).isoformat()}

    async def get_all_metrics(self) -> dict[str, Any]:
        """Every mlsec service's request counts, errors and predictions, read from its Prometheus `/metrics`."""
        services = [name for name, client in self.clients.items() if isinstance(client, ServiceClient)]
        texts = await _gather({name: self._service(name).get_metrics() for name in services})
        summary: dict[str, Any] = {}
        for name in services:
            text = texts.get(name)
            if isinstance(text, str):
                summary[name] = {**request_counts(text), "predictions": _by_model(prediction_counts(text))}
        return {
            "services": summary,
            "unavailable": texts.get("unavailable", []),
            "timestamp": datetime.now(UTC).isoformat(),
        }

    async def get_model_management_overview(self) -> dict[str, Any]:
        """The registry (versions, aliases), what the model API and the cache have loaded, and recent jobs."""
        parts = await _gather(
            {
                "registry": self.training.get_model_registry(),
                "model_api": self.model_api.get_models(),
                "model_cache": self.model_cache.get_models(),
                "cache_stats": self.model_cache.get_stats(),
                "training_jobs": self.training.get_training_jobs(limit=20),
            }
        )
        return {**parts, "timestamp": datetime.now(UTC).isoformat()}

    async def get_security_overview(self) -> dict[str, Any]:
        """Detections per model and label (from the serving services' counters) and the health of the security
        services (analytics, data privacy, tracing)."""
        parts = await _gather(
            {
                "model_api_metrics": self.model_api.get_metrics(),
                "model_cache_metrics": self.model_cache.get_metrics(),
                **{name: self.get_service_health(name) for name in SECURITY_SERVICES},
            }
        )
        detections: Counter[tuple[str, str]] = Counter()
        for key in ("model_api_metrics", "model_cache_metrics"):
            text = parts.pop(key, None)
            if isinstance(text, str):
                detections.update(prediction_counts(text))
        per_model: dict[str, dict[str, Any]] = {}
        for (model, label), count in sorted(detections.items()):
            entry = per_model.setdefault(model, {"predictions": 0, "by_label": {}})
            entry["predictions"] += count
            entry["by_label"][label] = count
        for entry in per_model.values():
            flagged = entry["by_label"].get("1", 0)
            entry["flagged"] = flagged
            entry["flagged_rate"] = round(flagged / entry["predictions"], 4) if entry["predictions"] else 0.0
        return {
            "detections": per_model,
            "services": {name: parts.pop(name) for name in SECURITY_SERVICES if name in parts},
            "unavailable": parts.get("unavailable", []),
            "timestamp": datetime.now(UTC).isoformat(),
        }

    def _service(self, name: str) -> ServiceClient:
        client = self.clients[name]
        assert isinstance(client, ServiceClient)
        return client


APIClient = MainAPIClient  # seed 000's name for existing code


def _is_outage(exc: ServiceCallError) -> bool:
    """Unreachable, or a server-side failure: worth asking another service."""
    return exc.status_code is None or exc.status_code >= 500


async def _gather(calls: Mapping[str, Awaitable[Any]]) -> dict[str, Any]:
    """Run the calls concurrently; failed ones are listed under "unavailable" with their error."""
    names = list(calls)
    results = await asyncio.gather(*calls.values(), return_exceptions=True)
    parts: dict[str, Any] = {}
    unavailable: list[dict[str, str]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, ServiceCallError):
            unavailable.append({"part": name, "error": str(result)})
        elif isinstance(result, BaseException):
            raise result
        else:
            parts[name] = result
    parts["unavailable"] = unavailable
    return parts


def _by_model(counts: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (model, label), count in sorted(counts.items()):
        nested.setdefault(model, {})[label] = count
    return nested
