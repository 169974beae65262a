"""The internal service token: required by every service whenever it is set (on loopback too), and by a
service off loopback always; sent by services to each other, by the gateway with what it relays, and by the
CLI and the SDK, which find the token `mlsec up` left in MLSEC_HOME.

A real service app (tracing, the lightest) is driven through HTTP in process or in a thread; the CLI is
driven as a user runs it.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from typer.testing import CliRunner

from mlsec.cli import app as cli
from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.core.app import create_service_app
from mlsec.core.http import send, timeout_for
from mlsec.core.service_token import SERVICE_TOKEN_HEADER, service_token_path, write_service_token
from mlsec.core.services import get_spec
from mlsec.core.settings import ConfigurationError, Settings
from mlsec.services.tracing.app import create_app as create_tracing
from tests.conftest import run_in_new_loop, started_client
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
TOKEN = "a-service-token-of-forty-characters-----"


def _off_loopback(settings: Settings, token: str | None = TOKEN) -> Settings:
    return settings.model_copy(update={"host": "0.0.0.0", "service_token": SecretStr(token) if token else None})


async def test_off_loopback_a_service_wants_the_token(settings: Settings) -> None:
    async for http in started_client(create_tracing(_off_loopback(settings))):
        missing = await http.get("/health")
        assert missing.status_code == 401
        body = missing.json()
        assert (body["error"], body["status_code"], body["path"]) == (True, 401, "/health")
        assert body["request_id"] == missing.headers["x-request-id"]
        assert (await http.get("/health", headers={SERVICE_TOKEN_HEADER: TOKEN[:-1] + "x"})).status_code == 401
        assert (await http.post("/health/live", headers={SERVICE_TOKEN_HEADER: "short"})).status_code == 401
        assert (await http.get("/health", headers={SERVICE_TOKEN_HEADER: TOKEN})).status_code == 200
        assert (await http.get("/health/live")).status_code == 200
        assert (await http.get("/health/ready")).status_code == 200


async def test_on_loopback_without_a_token_everything_is_let_through(settings: Settings) -> None:
    for host in ("127.0.0.1", "127.3.2.1", "localhost", "::1"):
        local = settings.model_copy(update={"host": host})
        async for http in started_client(create_tracing(local)):
            assert (await http.get("/health")).status_code == 200


async def test_a_token_set_is_wanted_on_loopback_too(settings: Settings) -> None:
    """As under `mlsec up`, which always sets one: a local script cannot call around the gateway without it."""
    for host in ("127.0.0.1", "localhost", "::1"):
        local = settings.model_copy(update={"host": host, "service_token": SecretStr(TOKEN)})
        async for http in started_client(create_tracing(local)):
            assert (await http.get("/health")).status_code == 401
            assert (await http.post("/spans", json={})).status_code == 401
            assert (await http.get("/health", headers={SERVICE_TOKEN_HEADER: TOKEN[:-1] + "x"})).status_code == 401
            assert (await http.get("/health", headers={SERVICE_TOKEN_HEADER: TOKEN})).status_code == 200
            assert (await http.get("/health/live")).status_code == 200
            assert (await http.get("/health/ready")).status_code == 200


def test_a_service_off_loopback_without_a_token_refuses_to_start(settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="MLSEC_SERVICE_TOKEN") as refused:
        create_tracing(_off_loopback(settings, token=None))
    assert "\n" not in str(refused.value)
    # The gateway has user authentication instead: it starts without the token.
    assert isinstance(create_service_app(get_spec("gateway"), _off_loopback(settings, token=None)), FastAPI)


def test_mlsec_serve_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLSEC_HOST", "0.0.0.0")
    monkeypatch.setenv("MLSEC_TRACING_PORT", str(port))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:  # `serve` points the root logger at the runner's stdout, which is closed after the call
        result = CliRunner().invoke(cli, ["serve", "tracing"])
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "MLSEC_SERVICE_TOKEN" in lines[0], result.output


async def _tokens_seen(
    settings: Settings, call: Callable[[httpx.AsyncClient], Awaitable[None]]
) -> dict[str, str | None]:
    """The service token each host got from what `call` sends with a service's HTTP client."""
    seen: dict[str, str | None] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen[str(request.url.host) + ":" + str(request.url.port)] = request.headers.get(SERVICE_TOKEN_HEADER)
        return httpx.Response(200, json={})

    app = create_tracing(_off_loopback(settings))
    async with app.router.lifespan_context(app):
        http = app.state.ctx.http
        http._transport = httpx.MockTransport(record)
        await call(http)
    return seen


async def test_services_send_the_token_to_platform_services_only(settings: Settings) -> None:
    async def calls(http: httpx.AsyncClient) -> None:
        await http.get(f"{settings.url_for('model-api')}/health")
        await http.get("http://mlflow.example:5000/health")

    assert await _tokens_seen(settings, calls) == {"127.0.0.1:8000": TOKEN, "mlflow.example:5000": None}


async def test_what_the_gateway_relays_carries_the_token(settings: Settings) -> None:
    """The relay's fast path (`send`) skips httpx's auth walk, but not the platform credentials."""

    async def calls(http: httpx.AsyncClient) -> None:
        for url in (f"{settings.url_for('analytics')}/drift/alerts", "http://mlflow.example:5000/x"):
            await send(http, "GET", url, timeout=timeout_for(settings))

    assert await _tokens_seen(settings, calls) == {"127.0.0.1:8006": TOKEN, "mlflow.example:5000": None}


def _status_of(service: str, home: str, port: int) -> dict[str, object]:
    result = CliRunner().invoke(
        cli, ["status", "--json"], env={"MLSEC_HOME": home, "MLSEC_TRACING_PORT": str(port), "MLSEC_HTTP_RETRIES": "0"}
    )
    rows = {row["service"]: row for row in json.loads(result.stdout)}
    return dict(rows[service])


async def _sdk_health(settings: Settings) -> dict[str, object]:
    async with MainAPIClient(settings) as sdk:
        return await sdk.tracing.get_health()


def test_the_cli_and_the_sdk_use_the_token_mlsec_up_left(settings: Settings) -> None:
    """No MLSEC_SERVICE_TOKEN in the CLI's environment: it reads MLSEC_HOME/run/service-token (0600)."""
    served = settings.model_copy(update={"service_token": SecretStr(TOKEN)})
    with ThreadedServer(create_tracing(served)) as tracing:
        local = settings.model_copy(update={"tracing_port": tracing.port, "http_retries": 0})
        with pytest.raises(ServiceCallError, match=f"missing or wrong {SERVICE_TOKEN_HEADER}"):
            run_in_new_loop(_sdk_health(local))
        assert _status_of("tracing", str(settings.home), tracing.port)["status"] == "down"

        path = write_service_token(settings, TOKEN)
        assert path == service_token_path(settings) == settings.home / "run" / "service-token"
        assert path.stat().st_mode & 0o777 == 0o600
        assert run_in_new_loop(_sdk_health(local))["status"] == "healthy"
        assert _status_of("tracing", str(settings.home), tracing.port)["status"] == "healthy"
