"""What a dashboard page is: a name, the role it needs, and the functions that load its data.

A page is rendered on the server from `templates/pages/<name>.html` with what its `load` returns; each of its
partials (`templates/partials/<name>/<partial>.html`) is rendered alone with its own loader when htmx refreshes
it (every few seconds, or at once when the `/ws` topic it listens to says something changed). Loaders ask the
services through the SDK, as the gateway's JSON routes do, and never fail a page: a part whose service does not
answer comes back as `unavailable` and the template says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.core.app import ServiceContext
from mlsec.core.auth import Principal, Role


@dataclass(frozen=True, slots=True)
class View:
    """What a loader gets: the SDK, the gateway's context (database, event hub), the signed-in caller, the query."""

    sdk: MainAPIClient
    ctx: ServiceContext
    principal: Principal
    query: Mapping[str, str]


Loader = Callable[[View], Awaitable[dict[str, Any]]]


async def _nothing(view: View) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    title: str
    need: Role = Role.VIEWER
    load: Loader = _nothing
    partials: Mapping[str, Loader] = field(default_factory=dict)
    topics: tuple[str, ...] = ()  # the /ws topics the page listens to (its partials refresh on them)


async def gather_parts(view: View, *loaders: Loader) -> dict[str, Any]:
    """Every loader at once, their contexts merged: a page costs its slowest service, not their sum."""
    merged: dict[str, Any] = {}
    for loaded in await asyncio.gather(*(loader(view) for loader in loaders)):
        merged.update(loaded)
    return merged


async def part(call: Awaitable[Any]) -> dict[str, Any]:
    """One service's answer for a template: `{"data": ...}`, or `{"unavailable": "why"}` when it failed."""
    try:
        return {"data": await call}
    except ServiceCallError as exc:
        return {"unavailable": f"{exc.service}: {exc.error_type.replace('_', ' ')} ({exc.status_code or '-'})"}
