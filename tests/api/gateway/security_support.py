"""What the gateway security tests share: a gateway with cheap argon2, its admin key, keys per role.

argon2 is lowered here only (t=1, 8 KiB): the defaults cost tens of milliseconds by design, which
would dominate tests that create many keys. Every backend service is pointed at a closed loopback
port with no retries, so a route that calls one fails at once instead of waiting for a timeout.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from mlsec.core.auth import Role, credentials_path, read_credentials
from mlsec.core.services import SERVICES
from mlsec.core.settings import Settings
from mlsec.services.gateway.app import create_app
from mlsec.services.gateway.settings import GatewaySettings
from tests.conftest import started_client

FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated(settings: Settings, **overrides: Any) -> Settings:
    """The platform settings with every service (and MLflow) unreachable, failing fast."""
    urls = {f"{spec.key}_url": f"http://127.0.0.1:{closed_port()}" for spec in SERVICES if spec.name != "gateway"}
    values = {
        **urls,
        "mlflow_tracking_uri": f"http://127.0.0.1:{closed_port()}",
        "http_retries": 0,
        "http_backoff_initial": 0.0,
        **overrides,
    }
    return settings.model_copy(update=values)


def gateway_settings(**overrides: Any) -> GatewaySettings:
    """Gateway settings for a test: cheap argon2, nothing from the environment."""
    values: dict[str, Any] = {"jwt_secret": None, "cors_origins": [], **FAST_ARGON2, **overrides}
    return GatewaySettings(_env_file=None, **values)


@dataclass
class Gateway:
    """A started gateway, a client without credentials, and the admin key it created at start-up."""

    app: FastAPI
    http: httpx.AsyncClient
    admin_key: str

    def as_key(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    async def new_key(self, role: Role, name: str | None = None) -> str:
        response = await self.http.post(
            "/auth/keys", json={"name": name or f"test-{role}", "role": str(role)}, headers=self.as_key(self.admin_key)
        )
        assert response.status_code == 201, response.text
        return str(response.json()["api_key"])


@asynccontextmanager
async def running_gateway(
    settings: Settings, own: GatewaySettings | None = None, **reachable: Any
) -> AsyncIterator[Gateway]:
    """Start the real gateway app in process (lifespan included) and hand out a client; every service is
    unreachable but those `reachable` names (`analytics_url="http://..."`)."""
    app = create_app(isolated(settings, **reachable), own or gateway_settings())
    async for http in started_client(app):
        key = read_credentials(credentials_path(settings))
        assert key is not None
        yield Gateway(app=app, http=http, admin_key=key)


async def sign_in_as(gateway: Gateway, role: Role) -> str:
    """Sign the gateway's client in to the dashboard (its cookie jar keeps the session) with a key of `role`
    (the admin key for admin); the session's CSRF token."""
    key = gateway.admin_key if role == Role.ADMIN else await gateway.new_key(role)
    response = await gateway.http.post("/auth/session", json={"api_key": key})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])
