"""`MainAPIClient`: one client per service behind one pooled, resilient HTTP client, plus the platform calls
of seed 000 (health of everything, unified predictions with fallback, dashboard aggregations).

Service URLs come from settings (`MODEL_API_URL`, ... or host and port). The platform calls are the gateway's
routes (`GATEWAY_URL`, `client.gateway`): the gateway asks the services, concurrently, falls back from the
model cache to the model API, and names a part that failed in the answer's `unavailable` list.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from mlsec.client.analytics import AnalyticsClient
from mlsec.client.base import BaseClient
from mlsec.client.business_metrics import BusinessMetricsClient
from mlsec.client.control_tower import ControlTowerClient
from mlsec.client.data_privacy import DataPrivacyClient
from mlsec.client.gateway import GatewayClient
from mlsec.client.mlflow import MLflowClient
from mlsec.client.serving import ModelAPIClient, ModelCacheClient
from mlsec.client.tracing import TracingClient
from mlsec.client.training import TrainingClient
from mlsec.core.auth import load_api_key, platform_auth
from mlsec.core.http import BreakerRegistry, create_http_client
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
    gateway: GatewayClient
    """The gateway's own routes (`GATEWAY_URL`): the platform calls below go through it."""

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
        # Not among `clients`: those are the services the gateway fronts (and relays under /api/<service>).
        self.gateway = GatewayClient("gateway", self.settings.url_for("gateway"), self.http, self.settings)

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

    # --- the platform, through the gateway (docs/gateway.md) ---------------------------------------------

    async def get_all_services_health(self) -> dict[str, Any]:
        """`GET {gateway}/health`: every service's readiness and circuit state, `overall_score` (the share of
        services healthy, 0-100), `status` (healthy, degraded or unhealthy), and the gateway's own part."""
        return await self.gateway.get_health()

    async def get_service_health(self, name: str) -> dict[str, Any]:
        """One service's entry of `get_all_services_health()` (`model_api` or `model-api`)."""
        service = service_name(name)
        services: dict[str, dict[str, Any]] = (await self.get_all_services_health())["services"]
        return services[service]

    async def predict_unified(
        self,
        text: str,
        model_name: str | None = None,
        use_cache: bool = True,
        *,
        version: str | None = None,
        traffic_class: TrafficClass | None = None,
    ) -> dict[str, Any]:
        """`POST {gateway}/predict`: the model cache first, the model API when the cache is down (`served_by`,
        `fallback`). Input errors (4xx) come back as the serving service gave them; 503 when neither answers."""
        return await self.gateway.predict(
            text, model_name=model_name, version=version, use_cache=use_cache, traffic_class=traffic_class
        )

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
        """`POST {gateway}/predict/batch`; with `ensemble`, every served model (or `model_names`) votes."""
        return await self.gateway.predict_batch(
            list(texts),
            model_name=model_name,
            ensemble=ensemble,
            model_names=list(model_names) if model_names is not None else None,
            use_cache=use_cache,
            traffic_class=traffic_class,
        )

    async def get_dashboard_overview(self) -> dict[str, Any]:
        """`GET {gateway}/dashboard/overview`: health, served models, cache state, recent jobs, the registry."""
        return await self.gateway.get_dashboard_overview()

    async def get_all_metrics(self) -> dict[str, Any]:
        """`GET {gateway}/metrics` as JSON: every service's request, error and prediction counts."""
        return await self.gateway.get_all_metrics()

    async def get_model_management_overview(self) -> dict[str, Any]:
        """`GET {gateway}/models/overview`: the registry, what the model API and the cache have loaded, recent jobs."""
        return await self.gateway.get_models_overview()

    async def get_security_overview(self) -> dict[str, Any]:
        """`GET {gateway}/security/overview`: detections per model and label, the security services' health."""
        return await self.gateway.get_security_overview()


APIClient = MainAPIClient  # seed 000's name for existing code
