"""Every service's OpenAPI document tells the truth: schemathesis fuzzes every operation of every service.

Each service runs for real (uvicorn in a thread, its lifespan, its migrated database; the session's MLflow with
a registered model for those that use MLflow), and every operation gets a bounded, derandomized set of cases:
the documented examples, schemathesis's coverage cases (boundaries, missing and wrong-typed values, other
methods) and fuzzed ones. Every check schemathesis has runs on each answer: no server error, and the status
code, content type, headers and body are the ones the document declares; input the schema refuses is refused,
input it allows is not (but see `SEMANTIC_422`); `OPTIONS` and 405 answers name the path's methods.

Peer services are unreachable (closed ports, no retries), so the routes that call one answer their documented
503, which the server-error check lets pass; the gateway's forwarded routes answer it for every service. Routes
that start long background work (training, retraining, red-team runs) are left out: a fuzzer would start
hundreds of jobs, and their own tests cover them.
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi import from_dict
from schemathesis.schemas import BaseSchema

from mlsec.core.auth import credentials_path, read_credentials
from mlsec.core.services import SERVICES, SERVICES_BY_NAME, ServiceSpec
from mlsec.core.settings import Settings
from tests.api.gateway.security_support import gateway_settings, isolated
from tests.conftest import TEST_DB_PREFIX, make_settings
from tests.servers import ThreadedServer

MAX_EXAMPLES = 8  # fuzzed cases per operation, beside its examples and coverage cases
# (service, method, path) of the operations that start long background work; on the gateway too.
LONG_JOBS = {
    ("training", "POST", "/training/train"),
    ("training", "POST", "/training/retrain"),
    ("analytics", "POST", "/red-team/run"),
    ("analytics", "POST", "/auto-retrain/trigger/{model_name}"),
}
# Operations whose input may be valid for the schema and still be refused (422) for a reason the schema does not
# state: exactly one of two fields (`text` or `features`, a key or a password, ...), a file's format told by its
# name, a checksum that must match the body, tensor data that must fit its datatype, two drift samples naming the
# same features, a red-team report's totals adding up, `since` before `until`, a purpose the deployment lists.
SEMANTIC_422 = {
    ("model-api", "POST", "/predict"),
    ("model-api", "POST", "/predict/batch"),
    ("model-api", "POST", "/v2/models/{model_name}/infer"),
    ("model-api", "POST", "/v2/models/{model_name}/versions/{version}/infer"),
    ("model-api", "POST", "/invocations"),
    ("model-cache", "POST", "/predict"),
    ("model-cache", "POST", "/predict/batch"),
    ("training", "POST", "/data/upload-data"),
    ("training", "POST", "/data/efficient/upload-large-file"),
    ("analytics", "POST", "/drift/detect"),
    ("analytics", "POST", "/drift/detect/upload"),
    ("analytics", "POST", "/red-team/results"),
    ("analytics", "GET", "/export/production-data/{model_name}"),
    ("analytics", "PUT", "/auto-retrain/config"),
    ("gateway", "POST", "/auth/token"),
    ("gateway", "PATCH", "/auth/users/{username}"),
    # consent purposes are the deployment's (MLSEC_DATA_PRIVACY_PURPOSES); a token decrypts only with its key
    ("data-privacy", "POST", "/consent/record"),
    ("data-privacy", "POST", "/consent/withdraw"),
    ("data-privacy", "POST", "/consent/check"),
    ("data-privacy", "POST", "/anonymize/decrypt"),
    # a trace search's minimum duration over its maximum, or its start after its end, can match nothing
    ("tracing", "GET", "/traces"),
    ("tracing", "GET", "/search/traces"),
    # a period is text (15m, 24h, 7d) that can be unreadable, start after end or too long; a KPI name must be known;
    # an SLA needs one objective; a series may not have more than 5,000 points
    *(
        ("business-metrics", "GET", path)
        for path in (
            "/metrics/summary",
            "/metrics/kpis",
            "/metrics/export",
            "/performance",
            "/throughput",
            "/latency",
            "/security",
            "/threats",
            "/compliance",
            "/costs",
            "/analytics/trends",
            "/analytics/correlation",
            "/slas/{model_name}/compliance",
        )
    ),
    ("business-metrics", "PUT", "/slas/{model_name}"),
    ("business-metrics", "POST", "/reports/generate"),
}
# Operations whose seed answers 400 (not 422) for a value the schema leaves open: seed 004's monitor refuses a
# model type other than classifier or regressor with 400 "Invalid model type", and its contract wins.
SEED_400 = {("control-tower", "POST", "/models/{model_name}/{model_version}/monitor")}
# Operations whose body the schema can only call binary (OTLP protobuf): random bytes are rightly a 400.
BINARY_400 = {("tracing", "POST", "/v1/traces")}
schemathesis.serializer.alias("application/x-protobuf", "application/octet-stream")  # sent as the bytes generated
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis's default for valid input
_PARAMETER = re.compile(r"\{[^}/]+\}")


def _model_api(settings: Settings, served_model: str) -> FastAPI:
    from mlsec.services.model_api.app import create_app
    from mlsec.services.model_api.settings import ModelApiSettings

    return create_app(settings, ModelApiSettings(_env_file=None, default_model=served_model))


def _model_cache(settings: Settings, served_model: str) -> FastAPI:
    from mlsec.services.model_cache.app import create_app
    from mlsec.services.model_cache.settings import ModelCacheSettings

    own = ModelCacheSettings(_env_file=None, default_model=served_model, preload_champions=False)
    return create_app(settings, own)


def _training(settings: Settings, served_model: str) -> FastAPI:
    from mlsec.services.training.app import create_app
    from mlsec.services.training.settings import TrainingSettings

    own = TrainingSettings(
        _env_file=None, bootstrap_default_model=False, max_upload_bytes=200_000, max_large_upload_bytes=200_000
    )
    return create_app(settings, own)


def _analytics(settings: Settings, served_model: str) -> FastAPI:
    from mlsec.services.analytics.app import create_app
    from mlsec.services.analytics.settings import AnalyticsSettings

    own = AnalyticsSettings.model_validate({"monitor_interval_seconds": 0, "smtp_host": None, "alert_email_to": []})
    return create_app(settings, own)


def _gateway(settings: Settings, served_model: str) -> FastAPI:
    from mlsec.services.gateway.app import create_app

    return create_app(settings, gateway_settings())


def _plain(module: str) -> Callable[[Settings, str], FastAPI]:
    def build(settings: Settings, served_model: str) -> FastAPI:
        app: FastAPI = importlib.import_module(module).create_app(settings)
        return app

    return build


BUILDERS: dict[str, Callable[[Settings, str], FastAPI]] = {
    "model-api": _model_api,
    "model-cache": _model_cache,
    "training": _training,
    "analytics": _analytics,
    "gateway": _gateway,
}


def _build(spec: ServiceSpec, settings: Settings, served_model: str) -> FastAPI:
    return BUILDERS.get(spec.name, _plain(spec.app_module))(settings, served_model)


def _document(spec: ServiceSpec) -> dict[str, Any]:
    """The service's OpenAPI document, from an app that is built but not started (nothing connects)."""
    with tempfile.TemporaryDirectory() as home:
        return _build(spec, make_settings(Path(home)), "any-model").openapi()


def _shadowed(paths: dict[str, Any]) -> list[str]:
    """Literal paths that a templated path also matches (`/models/load` and `/models/{model_name}`): their
    `Allow` rightly names the templated route's methods too (a model may be called "load"), which the schema
    lists under the other path."""
    templates = [re.compile("^" + _PARAMETER.sub("[^/]+", path) + "$") for path in paths if "{" in path]
    return [path for path in paths if "{" not in path and any(t.match(path) for t in templates)]


def _config(spec: ServiceSpec, paths: dict[str, Any]) -> SchemathesisConfig:
    """Every check; a 503 (a dependency down: here every peer service is) is not counted as a server error, but
    like every status it must be documented."""
    accept = {
        status: {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, status]}} for status in ("400", "422")
    }
    operations = [
        {"include-method": method, "include-path": path, "checks": accept[status]}
        for status, semantic in (("422", SEMANTIC_422), ("400", SEED_400 | BINARY_400))
        for service, method, path in sorted(semantic)
        if service == spec.name
    ] + [
        {"include-path": path, "checks": {"allow_header_conformance": {"enabled": False}}} for path in _shadowed(paths)
    ]
    return SchemathesisConfig.from_dict(
        {
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}},
            "operations": operations,
        }
    )


def _schema(spec: ServiceSpec) -> BaseSchema:
    document = _document(spec)
    loaded: BaseSchema = from_dict(document, config=_config(spec, document["paths"]))
    excluded = {(method, path) for service, method, path in LONG_JOBS if service == spec.name}
    if spec.name == "gateway":
        excluded |= {(method, f"/api/{service}{path}") for service, method, path in LONG_JOBS}
    for method, path in sorted(excluded):
        loaded = loaded.exclude(method=method, path=path)
    return loaded


class Services:
    """The services under test, each started on first use and stopped at the end of the module."""

    def __init__(self, home: Path, mlflow_uri: str, served_model: str, backend: dict[str, Any]):
        self.home = home
        self.mlflow_uri = mlflow_uri
        self.served_model = served_model
        self.backend = backend  # PostgreSQL and Redis when the run has them (as CI does), else SQLite and memory
        self.running: dict[str, tuple[ThreadedServer, dict[str, str]]] = {}

    def get(self, name: str) -> tuple[ThreadedServer, dict[str, str]]:
        """The started service `name` and the headers its callers send (the gateway's admin key)."""
        if name not in self.running:
            self.running[name] = self._start(SERVICES_BY_NAME[name])
        return self.running[name]

    def _start(self, spec: ServiceSpec) -> tuple[ThreadedServer, dict[str, str]]:
        settings = isolated(make_settings(self.home / spec.key, **self.backend))  # every peer (and MLflow) unreachable
        if spec.uses_mlflow and spec.name != "gateway":
            settings = settings.model_copy(update={"mlflow_tracking_uri": self.mlflow_uri})
        server = ThreadedServer(_build(spec, settings, self.served_model)).start()
        server.wait_started()
        headers: dict[str, str] = {}
        if spec.name == "gateway":
            headers["Authorization"] = f"Bearer {read_credentials(credentials_path(settings))}"
        return server, headers

    def stop(self) -> None:
        for server, _ in self.running.values():
            server.stop()


@pytest.fixture(scope="module")
def services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mlflow_server: str, served_model: str
) -> Iterator[Services]:
    backend: dict[str, Any] = {}
    if os.environ.get("MLSEC_TEST_POSTGRES_URL") and os.environ.get("MLSEC_TEST_REDIS_URL"):
        backend = {
            "postgres_url": request.getfixturevalue("postgres_server_url"),
            "database_prefix": f"{TEST_DB_PREFIX}_fuzz",
            "redis_url": request.getfixturevalue("redis_server_url"),
        }
    running = Services(tmp_path_factory.mktemp("fuzz"), mlflow_server, served_model, backend)
    try:
        yield running
    finally:
        running.stop()


@schemathesis.pytest.parametrize(**{spec.key: _schema(spec) for spec in SERVICES})
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_every_answer_is_the_documented_one(case: Case[Any], services: Services) -> None:
    title: str = case.operation.schema.raw_schema["info"]["title"]  # "mlsec <service>"
    server, headers = services.get(title.removeprefix("mlsec "))
    case.call_and_validate(base_url=server.url, headers=headers)


def test_every_path_parameter_is_declared() -> None:
    """The gateway's forwarded routes take the request alone, so their path parameters are declared for them."""
    paths = _document(SERVICES_BY_NAME["gateway"])["paths"]
    templated = 0
    for path, item in paths.items():
        names = set(re.findall(r"\{([^}/]+)\}", path))
        templated += bool(names) and path.startswith("/api/")
        for operation in item.values():
            assert {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"} == names, path
    assert templated, "no forwarded route with a path parameter was checked"
