"""The common health endpoints and the dependency checks behind them.

`/health` is cheap (the process answers), `/health/live` says the process is up, `/health/ready`
checks the critical dependencies (a load balancer may send traffic), `/health/deep` checks every
dependency and names each one that is down. Both of the last two list the start-up tasks still pending
(mlsec.core.startup): a service is ready while, say, its models are still loading, and says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from mlsec.core.errors import ServiceUnavailableError
from mlsec.core.openapi import error_responses

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class DependencyCheck:
    """A named probe of one dependency; `probe` raises when the dependency is down."""

    name: str
    probe: Callable[[], Awaitable[object]]
    critical: bool = True


class CheckResult(BaseModel):
    status: Literal["up", "down"]
    critical: bool
    latency_ms: float
    error: str | None = None


class HealthRead(BaseModel):
    status: Literal["healthy"]
    service: str
    version: str
    timestamp: datetime
    uptime_seconds: float


class LiveRead(BaseModel):
    status: Literal["alive"]
    service: str


class PendingRead(BaseModel):
    """A start-up task that has not succeeded yet (e.g. `models`: `loading`, waiting for MLflow)."""

    state: str
    since: datetime
    attempts: int = Field(description="Failed attempts so far; it is tried again with backoff.")
    last_error: str | None
    next_attempt_in_seconds: float | None


class ReadyRead(BaseModel):
    status: Literal["ready"]
    service: str
    checks: dict[str, CheckResult]
    pending: dict[str, PendingRead] = Field(
        default_factory=dict, description="Start-up work not done yet; the service serves meanwhile."
    )


class DeepRead(BaseModel):
    status: Literal["healthy", "degraded"]
    service: str
    version: str
    checks: dict[str, CheckResult]
    down: list[str]
    pending: dict[str, PendingRead] = Field(default_factory=dict)


async def _run_check(check: DependencyCheck) -> CheckResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check.probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "down"; the reason is named, not its traceback
        reason = "timed out" if isinstance(exc, TimeoutError) else (str(exc).splitlines() or [""])[0][:200]
        return CheckResult(
            status="down",
            critical=check.critical,
            latency_ms=_ms(started),
            error=f"{type(exc).__name__}: {reason}".rstrip(": "),
        )
    return CheckResult(status="up", critical=check.critical, latency_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def run_checks(checks: list[DependencyCheck]) -> dict[str, CheckResult]:
    """Run every check concurrently, each bounded by a timeout."""
    results = await asyncio.gather(*(_run_check(check) for check in checks))
    return {check.name: result for check, result in zip(checks, results, strict=True)}


def _down(results: dict[str, CheckResult], *, critical_only: bool) -> list[str]:
    return [name for name, r in results.items() if r.status == "down" and (r.critical or not critical_only)]


def _pending(request: Request) -> dict[str, PendingRead]:
    ctx = getattr(request.app.state, "ctx", None)
    startup = getattr(ctx, "startup", None)
    if startup is None:
        return {}
    return {name: PendingRead.model_validate(task, from_attributes=True) for name, task in startup.pending().items()}


def _checks(request: Request, *, critical_only: bool) -> list[DependencyCheck]:
    checks: list[DependencyCheck] = getattr(request.app.state, "dependency_checks", [])
    return [c for c in checks if c.critical or not critical_only]


def build_health_router(service: str, version: str, *, omit: Collection[str] = ()) -> APIRouter:
    """The health and metrics routes every service exposes, less the paths in `omit` (a service that answers
    one of them its own way, as the gateway does for /health and /metrics)."""
    router = APIRouter(tags=["health"])
    started = time.monotonic()

    @router.get("/health", response_model=HealthRead)
    async def get_health() -> HealthRead:
        return HealthRead(
            status="healthy",
            service=service,
            version=version,
            timestamp=datetime.now(UTC),
            uptime_seconds=round(time.monotonic() - started, 3),
        )

    @router.get("/health/live", response_model=LiveRead)
    async def get_liveness() -> LiveRead:
        return LiveRead(status="alive", service=service)

    @router.get("/health/ready", response_model=ReadyRead, responses=error_responses(503))
    async def get_readiness(request: Request) -> ReadyRead:
        results = await run_checks(_checks(request, critical_only=True))
        down = _down(results, critical_only=True)
        if down or not getattr(request.app.state, "started", False):
            reason = f"{', '.join(down)} down" if down else "still starting"
            raise ServiceUnavailableError(
                f"{service} is not ready: {reason}", details={"checks": _dump(results), "down": down}
            )
        return ReadyRead(status="ready", service=service, checks=results, pending=_pending(request))

    @router.get("/health/deep", response_model=DeepRead, responses=error_responses(503))
    async def get_deep_health(request: Request) -> DeepRead:
        results = await run_checks(_checks(request, critical_only=False))
        critical_down = _down(results, critical_only=True)
        down = _down(results, critical_only=False)
        if critical_down:
            raise ServiceUnavailableError(
                f"{service} is unhealthy: {', '.join(down)} down", details={"checks": _dump(results), "down": down}
            )
        return DeepRead(
            status="degraded" if down else "healthy",
            service=service,
            version=version,
            checks=results,
            down=down,
            pending=_pending(request),
        )

    @router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
    async def get_metrics(request: Request) -> Response:
        return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    router.routes[:] = [route for route in router.routes if getattr(route, "path", None) not in omit]
    return router


def _dump(results: dict[str, CheckResult]) -> dict[str, dict[str, object]]:
    return {name: result.model_dump() for name, result in results.items()}
