"""Admin actions as events on the platform's stream (topic `admin`): the data-privacy service writes each one to
its hash-chained audit log (docs/data-privacy.md). Never a secret in the payload: key ids, names, roles, routes.

Two sources: the key and user routes announce what they did with its details (`announce`), and every other write
that needs an admin (configuration, clearing caches, erasure, retention clean-up, decryption: policy.py) is
announced by `AdminActions` once it succeeded, with who, the route template and the status.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlsec.core.app import ServiceContext

TOPIC = "admin"
ADMIN_ACTION = "admin_action"  # the request state's key: the guard's "METHOD /template" of an admin write
ANNOUNCED_BY_ROUTE = "/auth/"  # these routes announce themselves, with more detail


def announce(ctx: ServiceContext, action: str, *, actor: str, **details: Any) -> None:
    """Publish one admin action (without waiting for its delivery)."""
    ctx.publish(TOPIC, action, {"actor": actor, **details})


class AdminActions:
    """ASGI middleware: after an admin write answered below 400, announce it as `admin.action`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                action = state.get(ADMIN_ACTION)
                principal = state.get("principal")
                if action and principal is not None and message["status"] < 400 and ANNOUNCED_BY_ROUTE not in action:
                    ctx: ServiceContext = scope["app"].state.ctx
                    announce(ctx, "action", actor=principal.identity, route=action, status=message["status"])
            await send(message)

        await self.app(scope, receive, watch)
