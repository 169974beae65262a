"""The catalogue of the platform's services: names, default ports and where their apps live.

This is configuration, not code of the services: `mlsec.core` never imports a service package,
it only names the module path that the launcher imports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service of the platform, as the launcher and the settings see it."""

    name: str
    port: int
    description: str
    uses_mlflow: bool = False
    depends_on: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The service name as a Python identifier (`model-api` -> `model_api`)."""
        return self.name.replace("-", "_")

    @property
    def app_module(self) -> str:
        """The module whose `create_app(settings)` builds this service's ASGI app."""
        return f"mlsec.services.{self.key}.app"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("model-api", 8000, "Predictions and loaded models", uses_mlflow=True),
    ServiceSpec("training", 8002, "Datasets, training jobs, model registration", uses_mlflow=True),
    ServiceSpec("model-cache", 8003, "Preloaded models, LRU cache, fast predictions", uses_mlflow=True),
    ServiceSpec(
        "business-metrics",
        8004,
        "Business KPIs and reports",
        depends_on=("model-api", "model-cache", "analytics", "tracing", "data-privacy"),
    ),
    ServiceSpec(
        "analytics",
        8006,
        "Drift, performance, red team, auto-retrain",
        uses_mlflow=True,
        depends_on=("model-api", "training"),
    ),
    ServiceSpec(
        "gateway",
        8007,
        "API gateway, WebSocket hub and web dashboard",
        depends_on=(
            "model-api",
            "training",
            "model-cache",
            "business-metrics",
            "analytics",
            "data-privacy",
            "tracing",
            "control-tower",
        ),
    ),
    ServiceSpec("data-privacy", 8008, "PII detection, anonymization, consent, retention, audit"),
    ServiceSpec("tracing", 8009, "Trace and span store (OTLP receiver)"),
    ServiceSpec("control-tower", 8010, "MLflow model control tower", uses_mlflow=True),
)

SERVICES_BY_NAME: dict[str, ServiceSpec] = {spec.name: spec for spec in SERVICES}
MLFLOW_DEFAULT_PORT = 5000


def get_spec(name: str) -> ServiceSpec:
    """Return the spec of a service by its name (`model-api`) or key (`model_api`)."""
    spec = SERVICES_BY_NAME.get(name.replace("_", "-"))
    if spec is None:
        known = ", ".join(SERVICES_BY_NAME)
        raise KeyError(f"unknown service {name!r}; known services: {known}")
    return spec
