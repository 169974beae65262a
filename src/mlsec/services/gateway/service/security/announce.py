"""Admin actions as events on the platform's stream (topic `admin`): the data-privacy service writes each one to
its hash-chained audit log (docs/data-privacy.md). Never a secret in the payload: key ids, names, roles."""

from __future__ import annotations

from typing import Any

from mlsec.core.app import ServiceContext

TOPIC = "admin"


def announce(ctx: ServiceContext, action: str, *, actor: str, **details: Any) -> None:
    """Publish one admin action (without waiting for its delivery)."""
    ctx.publish(TOPIC, action, {"actor": actor, **details})
