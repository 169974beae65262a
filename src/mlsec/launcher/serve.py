"""`mlsec serve SERVICE`: run one service in this process (how a distributed deployment runs them)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import os
import signal
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from mlsec.core.logging import configure_logging
from mlsec.core.services import ServiceSpec
from mlsec.core.settings import Settings
from mlsec.launcher.preflight import check_database, check_ports, check_redis

PARENT_PID_ENV = "MLSEC_PARENT_PID"


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising the stop signal after a graceful shutdown (exit code 0), and with
    the garbage collector told to leave alone what exists once the service has started."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # Imports and start-up leave a few hundred thousand objects that live as long as the process
        # (MLflow, scikit-learn, pydantic models). Frozen, full collections stop walking them: measured
        # on the gateway under load, p99 from 106 to 33 ms and 6% less CPU per request.
        gc.freeze()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def build_app(spec: ServiceSpec, settings: Settings) -> FastAPI:
    """Import the service's package and build its app (services are imported only here)."""
    module = importlib.import_module(spec.app_module)
    app: FastAPI = module.create_app(settings)
    return app


async def _exit_with_parent(server: uvicorn.Server) -> None:
    """Stop when the supervisor that started us is gone, so no service outlives `mlsec up`."""
    parent = int(os.environ.get(PARENT_PID_ENV, "0"))
    if not parent:
        return
    while os.getppid() == parent:  # noqa: ASYNC110 - no event exists for "my parent died"
        await asyncio.sleep(1.0)
    server.should_exit = True


async def _serve(spec: ServiceSpec, settings: Settings, port: int) -> None:
    await check_redis(settings)
    await check_database(settings, spec)
    config = uvicorn.Config(
        build_app(spec, settings),
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        server_header=False,
        ws_max_size=1024 * 1024,  # the gateway's /ws takes small JSON messages; uvicorn's default is 16 MiB
    )
    server = _Server(config)
    watchdog = asyncio.create_task(_exit_with_parent(server))
    try:
        await server.serve()
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog
    if not server.started:
        raise SystemExit(1)


def serve(spec: ServiceSpec, settings: Settings, *, port: int | None = None) -> None:
    """Check the configuration, then run the service until SIGINT or SIGTERM."""
    configure_logging(spec.name, settings.log_level)
    if port is not None:
        settings = settings.model_copy(update={f"{spec.key}_port": port})
    check_ports(settings, [spec], mlflow=False)
    with event_loop_runner() as runner:
        runner.run(_serve(spec, settings, settings.port_for(spec)))


def event_loop_runner() -> asyncio.Runner:
    """uvloop's event loop where it is installed (uvicorn[standard] brings it on Linux and macOS), asyncio's
    otherwise: uvloop cuts the loop's own CPU cost per request, which the gateway pays twice per relayed call."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)
