"""The service app factory: what every service has in common, built the same way once.

`create_service_app` gives a FastAPI app the health and metrics routes, the error envelope, the
request-id/metrics middleware and OpenTelemetry, and a lifespan that builds the service's context
(database migrated to head, cache, resilient HTTP client, event publisher) and closes it again.
Nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request, params
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.auth import platform_auth
from mlsec.core.cache import Cache, create_cache
from mlsec.core.database import Database, ensure_database
from mlsec.core.errors import install_error_handlers
from mlsec.core.events import Event, EventHub, EventPublisher, create_event_sink
from mlsec.core.files import private_dir
from mlsec.core.health import DependencyCheck, build_health_router
from mlsec.core.http import PROBE_EXTENSIONS, BreakerRegistry, create_http_client, timeout_for
from mlsec.core.lanes import ServiceApp
from mlsec.core.metrics import ServiceMetrics
from mlsec.core.middleware import BodyLimit, BodySizeLimitMiddleware, RequestContextMiddleware
from mlsec.core.migrations import upgrade_to_head
from mlsec.core.openapi import declare_errors, service_token_errors
from mlsec.core.service_token import ServiceTokenMiddleware, check_service_token, service_token_required, trusted_caller
from mlsec.core.services import ServiceSpec
from mlsec.core.settings import Settings
from mlsec.core.startup import StartupTasks
from mlsec.core.telemetry import FASTAPI_TELEMETRY_OFF, setup_telemetry


@dataclass
class ServiceContext:
    """Everything a running service holds: built in the lifespan, closed there."""

    spec: ServiceSpec
    settings: Settings
    db: Database
    cache: Cache
    http: httpx.AsyncClient
    breakers: BreakerRegistry
    events: EventPublisher
    startup: StartupTasks
    hub: EventHub | None = None

    def publish(self, topic: str, type_: str, payload: dict[str, object] | None = None) -> bool:
        """Publish an event from this service without waiting for its delivery."""
        return self.events.publish(Event(topic=topic, type=type_, source=self.spec.name, payload=payload or {}))


ServiceLifespan = Callable[[FastAPI, ServiceContext], AbstractAsyncContextManager[None]]
ChecksFactory = Callable[[ServiceContext], list[DependencyCheck]]


async def get_context(request: Request) -> ServiceContext:
    """The running service's context (a FastAPI dependency; `async`, so FastAPI does not run it in a thread)."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[ServiceContext, Depends(get_context)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed after the endpoint returns (before the response), rolled back on error."""
    ctx: ServiceContext = request.app.state.ctx
    async with ctx.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_caller(request: Request) -> str:
    """Who called, for audit fields: the caller the gateway named (`X-Mlsec-Caller`), when the request proves
    it comes from a platform service with the service token; else `api` (docs/security.md)."""
    token = request.app.state.ctx.settings.service_token
    return trusted_caller(request.headers, token.get_secret_value() if token is not None else None)


CallerDep = Annotated[str, Depends(get_caller)]


def _http_probe(client: httpx.AsyncClient, url: str, settings: Settings) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        response = await client.get(url, timeout=timeout_for(settings, "health"), extensions=PROBE_EXTENSIONS)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code} from {url}")

    return probe


def default_checks(ctx: ServiceContext) -> list[DependencyCheck]:
    """Database and cache (critical), MLflow and peer services (reported, not blocking readiness)."""
    checks = [DependencyCheck("database", ctx.db.ping)]
    if ctx.cache.backend == "redis":
        checks.append(DependencyCheck("redis", ctx.cache.ping))
    if ctx.spec.uses_mlflow:
        checks.append(
            DependencyCheck(
                "mlflow", _http_probe(ctx.http, f"{ctx.settings.mlflow_uri}/health", ctx.settings), critical=False
            )
        )
    for peer in ctx.spec.depends_on:
        url = f"{ctx.settings.url_for(peer)}/health/live"
        checks.append(DependencyCheck(peer, _http_probe(ctx.http, url, ctx.settings), critical=False))
    return checks


async def build_context(
    spec: ServiceSpec, settings: Settings, stack: AsyncExitStack, *, metadata: MetaData | None, hub: EventHub | None
) -> ServiceContext:
    """Open the service's resources on `stack`, database migrated to head."""
    private_dir(settings.home)  # databases, credentials, datasets: for the platform's user only
    url = settings.database_url_for(spec)
    await ensure_database(url)
    db = Database(url)
    stack.push_async_callback(db.dispose)
    await upgrade_to_head(db, spec.key, metadata)
    cache = create_cache(settings, namespace=spec.key)
    stack.push_async_callback(cache.close)
    breakers = BreakerRegistry(fail_max=settings.breaker_fail_max, reset_timeout=settings.breaker_reset_timeout)
    http = create_http_client(settings, breakers=breakers)
    stack.push_async_callback(http.aclose)
    if (auth := platform_auth(settings)) is not None:
        http.auth = auth  # the internal service token, sent to platform services only
    events = EventPublisher(create_event_sink(settings, http, local_hub=hub))
    events.start()
    stack.push_async_callback(events.close)
    startup = StartupTasks()
    stack.push_async_callback(startup.close)  # closed before the resources its tasks use
    return ServiceContext(
        spec=spec,
        settings=settings,
        db=db,
        cache=cache,
        http=http,
        breakers=breakers,
        events=events,
        startup=startup,
        hub=hub,
    )


def create_service_app(
    spec: ServiceSpec,
    settings: Settings,
    *,
    metadata: MetaData | None = None,
    routers: Sequence[APIRouter] = (),
    lifespan: ServiceLifespan | None = None,
    checks: ChecksFactory = default_checks,
    hub: EventHub | None = None,
    body_limits: Mapping[str, BodyLimit] | None = None,
    replace_common: Collection[str] = (),
    dependencies: Sequence[params.Depends] | None = None,
) -> ServiceApp:
    """A FastAPI app with everything every service shares; `routers` add the domain endpoints, and
    `replace_common` names common routes (e.g. "/health") that one of them answers instead.
    `dependencies` run for every route, including routes added later (the gateway's authorization).

    A path with or without an extra trailing slash is a 404, never a redirect: Starlette's redirect builds
    an absolute `Location` from the `Host` header, so `Host: evil.example` would send a client to
    `http://evil.example/...` (with a POST's body, for a 307). A relative `Location` would not help either:
    behind the gateway (`/api/<service>/...`) or any prefix it points outside the caller's base URL. Every
    route has one path, which the SDK and the OpenAPI document use."""
    check_service_token(spec.name, settings)

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            stack.callback(provider.shutdown)
            ctx = await build_context(spec, settings, stack, metadata=metadata, hub=hub)
            app.state.ctx = ctx
            app.state.dependency_checks = checks(ctx)
            async with lifespan(app, ctx) if lifespan else nullcontext():
                app.state.started = True
                try:
                    yield
                finally:
                    app.state.started = False

    app = ServiceApp(  # a FastAPI app that may serve some routes on lanes (mlsec.core.lanes)
        title=f"mlsec {spec.name}",
        version=settings.version,
        description=spec.description,
        lifespan=app_lifespan,
        dependencies=dependencies,
        redirect_slashes=False,  # see the docstring: no Host-built redirects
        telemetry=FASTAPI_TELEMETRY_OFF,  # traced by our middleware instead, see mlsec.core.telemetry
    )
    app.state.started = False
    app.state.metrics = ServiceMetrics(spec.name)
    app.state.metrics.info.labels(spec.name, settings.version).set(1)
    install_error_handlers(app)
    enforced = service_token_required(spec.name, settings)
    declare_errors(app, *([service_token_errors] if enforced else []))  # every error answer, in the OpenAPI
    app.include_router(build_health_router(spec.name, settings.version, omit=replace_common))
    for router in routers:
        app.include_router(router)
    default_limit = BodyLimit(settings.max_request_bytes, "MLSEC_MAX_REQUEST_BYTES")
    app.add_middleware(BodySizeLimitMiddleware, default=default_limit, per_path=body_limits or {})
    if spec.name != "gateway":  # the gateway authenticates users and keys instead
        token = settings.service_token.get_secret_value() if settings.service_token else None
        app.add_middleware(ServiceTokenMiddleware, token=token, enforce=enforced)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    provider = setup_telemetry(app, settings, spec.name, registry=app.state.metrics.registry)
    return app
