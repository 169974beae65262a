"""Server side of the benchmarks: one app under a real uvicorn server, in a process of its own.

Run as `python -m benchmarks._serve bare|mlsec PORT HOME [TRACES_URL]`. A separate process means the load
generator never shares an event loop or a GIL with the server it measures, and the bare app never
imports mlsec, so no global OpenTelemetry or Prometheus state leaks into the baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

HOST = "127.0.0.1"
LIVE_PATH = "/health/live"
"""mlsec's liveness route: request-id/metrics middleware and error envelope, but OpenTelemetry skips it."""
TRACED_PATH = "/bench/live"
"""The same handler on a domain path, which OpenTelemetry does instrument: the full stack."""
APPS = ("bare", "mlsec")


class Live(BaseModel):
    """The liveness answer; the same shape as mlsec's, so both apps serialise the same work."""

    status: Literal["alive"]
    service: str


def live_router(service: str, paths: tuple[str, ...]) -> APIRouter:
    """The liveness handler on each of `paths`, written the way mlsec writes its own."""
    router = APIRouter()

    async def live() -> Live:
        return Live(status="alive", service=service)

    for path in paths:
        router.add_api_route(path, live, methods=["GET"], response_model=Live)
    return router


def build_bare_app() -> FastAPI:
    """The baseline: what a user writes with FastAPI alone, no middleware, no instrumentation."""
    app = FastAPI()
    app.include_router(live_router("x", (LIVE_PATH, TRACED_PATH)))
    return app


def build_mlsec_app(port: int, home: Path, traces_url: str | None = None) -> FastAPI:
    """A real service built by `create_service_app` (the tracing service's spec), plus the traced route.

    Everything that could be picked up from the environment and change the work per request (an
    OTLP exporter, Redis, PostgreSQL) is pinned to the local default, so the figures describe the
    stack and not a developer's shell. Its spans are exported only when `traces_url` (an OTLP/HTTP receiver)
    is given: the tracing suite's export-on variant.
    """
    from mlsec.core.app import create_service_app
    from mlsec.core.logging import configure_logging
    from mlsec.core.services import get_spec
    from mlsec.core.settings import Settings

    configure_logging("bench", "WARNING")  # per-request logs would measure the terminal, not the stack
    settings = Settings(
        _env_file=None,
        home=home,
        tracing_port=port,
        otel_exporter_otlp_endpoint=traces_url,
        trace_export=traces_url is not None,
        cache_backend="memory",
        events_backend="http",
        database_url=None,
        postgres_url=None,
        redis_url=None,
        redis_host=None,
    )
    spec = get_spec("tracing")
    return create_service_app(spec, settings, routers=[live_router(spec.name, (TRACED_PATH,))])


def main(argv: list[str] | None = None) -> None:
    """Serve one app on 127.0.0.1:PORT until SIGTERM; uvicorn's own logging config is left out."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4) or args[0] not in APPS:
        raise SystemExit("usage: python -m benchmarks._serve bare|mlsec PORT HOME [TRACES_URL]")
    kind, port, home = args[0], int(args[1]), Path(args[2])
    traces_url = args[3] if len(args) == 4 else None
    app = build_bare_app() if kind == "bare" else build_mlsec_app(port, home, traces_url)
    config = uvicorn.Config(app, host=HOST, port=port, log_config=None, access_log=False)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
