"""What every service client shares: the common endpoints and one place that maps HTTP errors.

Every call goes through the core resilient HTTP client (timeouts, retries, circuit breaker). Every method
that calls a route declares it with `@endpoint` (see `mlsec.client.endpoint`).
"""

from __future__ import annotations

from typing import Any

import httpx

from mlsec.client.endpoint import endpoint
from mlsec.core.http import CircuitOpenError, Operation, send, timeout_for
from mlsec.core.settings import Settings


class ServiceCallError(Exception):
    """A service could not be reached, or answered with an error envelope."""

    def __init__(
        self,
        service: str,
        message: str,
        *,
        status_code: int | None = None,
        body: dict[str, Any] | None = None,
        error_type: str = "error_status",
    ):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status_code = status_code
        self.body = body or {}
        self.error_type = error_type  # error_status, unreachable, timeout or circuit_open


def transport_error(service: str, exc: httpx.HTTPError) -> ServiceCallError:
    if isinstance(exc, CircuitOpenError):
        kind = "circuit_open"
    elif isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    else:
        kind = "unreachable"
    return ServiceCallError(service, f"{kind.replace('_', ' ')}: {type(exc).__name__}", error_type=kind)


class BaseClient:
    """A client of one HTTP server: requests through the shared pooled, resilient httpx client."""

    def __init__(self, service: str, base_url: str, http: httpx.AsyncClient, settings: Settings):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.settings = settings

    async def request(
        self, method: str, path: str, *, operation: Operation = "default", **kwargs: Any
    ) -> httpx.Response:
        """Send a request; transport failures and error statuses become ServiceCallError."""
        try:
            response = await self.http.request(
                method, f"{self.base_url}{path}", timeout=timeout_for(self.settings, operation), **kwargs
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.service, exc) from exc
        if response.status_code >= 400:
            body = json_object(response)
            message = str(body.get("message") or f"HTTP {response.status_code}")
            raise ServiceCallError(self.service, message, status_code=response.status_code, body=body)
        return response

    async def forward(
        self, method: str, path: str, *, operation: Operation = "default", **kwargs: Any
    ) -> httpx.Response:
        """Send a request and hand back the service's answer whatever its status (the gateway relays it);
        only an unreachable service raises ServiceCallError."""
        try:
            return await send(
                self.http, method, f"{self.base_url}{path}", timeout=timeout_for(self.settings, operation), **kwargs
            )
        except httpx.HTTPError as exc:
            raise transport_error(self.service, exc) from exc

    async def get_json(self, path: str, *, operation: Operation = "default", **kwargs: Any) -> Any:
        return (await self.request("GET", path, operation=operation, **kwargs)).json()


class ServiceClient(BaseClient):
    """A client of one mlsec service: the common endpoints; subclasses add one typed method per domain endpoint."""

    @endpoint("GET", "/health", operation="health")
    async def get_health(self) -> dict[str, Any]:
        """`GET /health`: the process answers."""
        return dict(await self.get_json("/health", operation="health"))

    @endpoint("GET", "/health/live", operation="health")
    async def get_health_live(self) -> dict[str, Any]:
        """`GET /health/live`."""
        return dict(await self.get_json("/health/live", operation="health"))

    @endpoint("GET", "/health/ready", operation="health")
    async def get_health_ready(self) -> dict[str, Any]:
        """`GET /health/ready`: critical dependencies are up."""
        return dict(await self.get_json("/health/ready", operation="health"))

    @endpoint("GET", "/health/deep", operation="health")
    async def get_health_deep(self) -> dict[str, Any]:
        """`GET /health/deep`: every dependency, naming the ones that are down."""
        return dict(await self.get_json("/health/deep", operation="health"))

    @endpoint("GET", "/metrics", operation="health", cache="metrics")
    async def get_metrics(self) -> str:
        """`GET /metrics` in the Prometheus text format."""
        return (await self.request("GET", "/metrics", operation="health")).text


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or {} for any other body."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
