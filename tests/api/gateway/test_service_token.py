"""The internal service token: required by a service off loopback, sent by services to each other.

A real service app (tracing, the lightest) is built with a non-loopback bind address and driven
through HTTP in process; the CLI is driven as a user runs it.
"""

from __future__ import annotations

import logging
import socket

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from typer.testing import CliRunner

from mlsec.cli import app as cli
from mlsec.core.app import create_service_app
from mlsec.core.auth import SERVICE_TOKEN_HEADER
from mlsec.core.services import get_spec
from mlsec.core.settings import ConfigurationError, Settings
from mlsec.services.tracing.app import create_app as create_tracing
from tests.conftest import started_client

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


async def test_on_loopback_everything_is_let_through(settings: Settings) -> None:
    for host in ("127.0.0.1", "127.3.2.1", "localhost", "::1"):
        local = settings.model_copy(update={"host": host})
        async for http in started_client(create_tracing(local)):
            assert (await http.get("/health")).status_code == 200


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


async def test_services_send_the_token_to_platform_services_only(settings: Settings) -> None:
    seen: dict[str, str | None] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen[str(request.url.host) + ":" + str(request.url.port)] = request.headers.get(SERVICE_TOKEN_HEADER)
        return httpx.Response(200, json={})

    app = create_tracing(_off_loopback(settings))
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        ctx.http._transport = httpx.MockTransport(record)
        await ctx.http.get(f"{settings.url_for('model-api')}/health")
        await ctx.http.get("http://mlflow.example:5000/health")
    assert seen == {"127.0.0.1:8000": TOKEN, "mlflow.example:5000": None}
