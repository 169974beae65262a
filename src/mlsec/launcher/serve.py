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
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from mlsec.core.logging import configure_logging
from mlsec.core.services import ServiceSpec
from mlsec.core.settings import ServiceSettings, Settings, effective_settings, mask_url
from mlsec.launcher.preflight import check_database, check_ports, check_redis

PARENT_PID_ENV = "MLSEC_PARENT_PID"
RELOAD_SERVICE_ENV = "MLSEC_RELOAD_SERVICE"


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


def serve(spec: ServiceSpec, settings: Settings, *, port: int | None = None, reload: bool = False) -> None:
    """Check the configuration, then run the service until SIGINT or SIGTERM; with `reload`, under uvicorn's
    reloader, which restarts it when a source file of the package changes (development only)."""
    configure_logging(spec.name, settings.log_level)
    if port is not None:
        settings = settings.model_copy(update={f"{spec.key}_port": port})
    check_ports(settings, [spec], mlflow=False)
    if reload:
        _serve_reloading(spec, settings)
        return
    with event_loop_runner() as runner:
        runner.run(_serve(spec, settings, settings.port_for(spec)))


def _serve_reloading(spec: ServiceSpec, settings: Settings) -> None:
    # The reloader imports the app anew in a child process: what this command was given travels in the
    # environment, which the child's settings read as usual.
    os.environ[RELOAD_SERVICE_ENV] = spec.name
    os.environ["MLSEC_HOST"] = settings.host
    os.environ[f"MLSEC_{spec.key.upper()}_PORT"] = str(settings.port_for(spec))
    uvicorn.run(
        f"{__name__}:{reloaded_app.__name__}",
        factory=True,
        reload=True,
        reload_dirs=[str(Path(__file__).resolve().parents[1])],
        host=settings.host,
        port=settings.port_for(spec),
        log_config=None,
        access_log=False,
    )


def reloaded_app() -> FastAPI:
    """The app `--reload` serves: the service named in the environment, with the environment's settings."""
    from mlsec.core.services import get_spec
    from mlsec.core.settings import load_settings

    return build_app(get_spec(os.environ[RELOAD_SERVICE_ENV]), load_settings())


def describe(spec: ServiceSpec, settings: Settings, *, port: int | None = None) -> dict[str, Any]:
    """The configuration the service would run with: the platform's settings and the service's own, every
    secret masked (pydantic prints a SecretStr as asterisks)."""
    if port is not None:
        settings = settings.model_copy(update={f"{spec.key}_port": port})
    own: dict[str, Any] = {}
    name = f"mlsec.services.{spec.key}.settings"
    try:
        found = vars(importlib.import_module(name)).values()
    except ModuleNotFoundError:  # a service with no settings of its own
        found = {}.values()
    for value in found:
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value.__module__ == name:
            own[value.__name__] = _shown(value())
    return {"service": spec.name, "url": settings.url_for(spec), "platform": effective_settings(settings), **own}


def _shown(settings: ServiceSettings) -> dict[str, Any]:
    """A service's own settings for display: secrets as ***, credentials in URLs masked."""
    shown: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="json").items():
        raw = getattr(settings, name)
        if isinstance(raw, SecretStr):
            shown[name] = "***"
        elif isinstance(value, str) and "://" in value:
            shown[name] = mask_url(value)
        else:
            shown[name] = value
    return shown


def event_loop_runner() -> asyncio.Runner:
    """uvloop's event loop where it is installed (uvicorn[standard] brings it on Linux and macOS), asyncio's
    otherwise: uvloop cuts the loop's own CPU cost per request, which the gateway pays twice per relayed call."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)
