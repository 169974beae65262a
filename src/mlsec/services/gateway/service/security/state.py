"""The gateway's security at run time: built in the lifespan, reached through `app.state.security`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from mlsec.core.app import ServiceContext
from mlsec.core.auth import Role
from mlsec.core.ratelimit import RateLimiter, create_rate_limiter
from mlsec.services.gateway.service.security.accounts import Authenticator
from mlsec.services.gateway.service.security.bootstrap import bootstrap_admin_key, load_or_create_jwt_secret
from mlsec.services.gateway.settings import GatewaySettings


@dataclass(frozen=True, slots=True)
class SecurityState:
    """What `authorize` and the /auth routes need: settings, the authenticator, the rate limiter."""

    settings: GatewaySettings
    authenticator: Authenticator
    limiter: RateLimiter

    def limit_for(self, role: Role) -> str:
        """The rate limit of a role."""
        return {
            Role.VIEWER: self.settings.rate_limit_viewer,
            Role.OPERATOR: self.settings.rate_limit_operator,
            Role.ADMIN: self.settings.rate_limit_admin,
        }[role]


@asynccontextmanager
async def security_lifespan(app: FastAPI, ctx: ServiceContext, settings: GatewaySettings) -> AsyncIterator[None]:
    """Load (or create) the token key, make sure an admin key exists, and publish the security state."""
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else await load_or_create_jwt_secret(ctx.db)
    token = ctx.settings.service_token.get_secret_value() if ctx.settings.service_token else None
    authenticator = Authenticator(db=ctx.db, settings=settings, jwt_secret=secret, service_token=token)
    limiter = create_rate_limiter(ctx.settings, namespace="gateway")
    try:
        await bootstrap_admin_key(ctx.db, ctx.settings, authenticator.hasher)
        app.state.security = SecurityState(settings=settings, authenticator=authenticator, limiter=limiter)
        yield
    finally:
        await limiter.close()


def install_cors(app: FastAPI, settings: GatewaySettings) -> None:
    """Let the configured browser origins call the API (none by default: the dashboard is same-origin)."""
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
        expose_headers=["Retry-After", "X-Request-ID"],
        allow_credentials=False,  # credentials travel in headers, never in cookies
        max_age=600,
    )
