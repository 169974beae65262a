"""Endpoint declarations: which HTTP route each SDK method calls, as data.

Every public method of a service client that calls a route carries `@endpoint(method, path, ...)`. The
declarations are what makes "100% coverage" checkable (a test compares them with each service's OpenAPI
paths) and what the gateway builds its `/api/<service>/...` routes from, so the SDK, the gateway and the
services cannot drift apart silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from mlsec.core.http import Operation

F = TypeVar("F", bound=Callable[..., Any])
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
# Response-cache classes of seed 000: how long the gateway may answer a GET from its cache. Seed 000 also
# cached health for 60 s; the platform does not: a health, readiness or status answer is only ever fresh,
# since a cached "healthy" from a dead service is a lie (a stale answer is for data only).
CacheClass = Literal["metrics", "model_info", "experiments", "default"]
CACHE_TTL_SECONDS: dict[str, float] = {
    "default": 300.0,
    "metrics": 60.0,
    "model_info": 300.0,
    "experiments": 300.0,
}
_PARAMETER = re.compile(r"\{[^}/]+\}")
_ATTRIBUTE = "__mlsec_endpoint__"


@dataclass(frozen=True)
class Endpoint:
    """One route of one service, as an SDK method calls it."""

    method: HttpMethod
    path: str  # the service's route template, e.g. "/models/{model_name}" (":path" suffix for a catch-all)
    operation: Operation = "default"  # timeout class
    cache: CacheClass | None = None  # GETs only: the gateway may cache (and serve stale) with this TTL
    name: str = ""  # the SDK method's name, filled in by `endpoints()`

    @property
    def template(self) -> str:
        """The path with parameter names erased, for comparing with another router's templates."""
        return _PARAMETER.sub("{}", self.path)


def endpoint(
    method: HttpMethod, path: str, *, operation: Operation = "default", cache: CacheClass | None = None
) -> Callable[[F], F]:
    """Declare the route a client method calls; the method itself stays a plain async function."""
    if cache is not None and method != "GET":
        raise ValueError(f"only GET responses are cached, not {method} {path}")

    def mark(function: F) -> F:
        declared = (
            *getattr(function, _ATTRIBUTE, ()),
            Endpoint(method=method, path=path, operation=operation, cache=cache),
        )
        setattr(function, _ATTRIBUTE, declared)  # a method may call several routes (e.g. with/without a version)
        return function

    return mark


def endpoints(client_class: type) -> list[Endpoint]:
    """Every endpoint a client class declares (its own and inherited), one per (method, path)."""
    found: dict[tuple[str, str], Endpoint] = {}
    for klass in reversed(client_class.__mro__):
        for name, value in vars(klass).items():
            for declared in getattr(value, _ATTRIBUTE, ()):
                found[(declared.method, declared.path)] = Endpoint(
                    method=declared.method,
                    path=declared.path,
                    operation=declared.operation,
                    cache=declared.cache,
                    name=name,
                )
    return sorted(found.values(), key=lambda e: (e.path, e.method))
