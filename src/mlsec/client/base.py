"""What every service client shares: the common endpoints and one place that maps HTTP errors.

Every call goes through the core resilient HTTP client (timeouts, retries, circuit breaker).
"""

from __future__ import annotations

from typing import Any

import httpx

from mlsec.core.http import Operation, timeout_for
from mlsec.core.settings import Settings


class ServiceCallError(Exception):
    """A service could not be reached, or answered with an error envelope."""

    def __init__(
        self, service: str, message: str, *, status_code: int | None = None, body: dict[str, Any] | None = None
    ):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.status_code = status_code
        self.body = body or {}


class ServiceClient:
    """A client of one service; subclasses add one typed method per domain endpoint."""

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
            raise ServiceCallError(self.service, f"unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            body = _json_or_empty(response)
            message = str(body.get("message") or f"HTTP {response.status_code}")
            raise ServiceCallError(self.service, message, status_code=response.status_code, body=body)
        return response

    async def get_json(self, path: str, *, operation: Operation = "default", **kwargs: Any) -> Any:
        return (await self.request("GET", path, operation=operation, **kwargs)).json()

    async def get_health(self) -> dict[str, Any]:
        """`GET /health`: the process answers."""
        return dict(await self.get_json("/health", operation="health"))

    async def get_health_live(self) -> dict[str, Any]:
        """`GET /health/live`."""
        return dict(await self.get_json("/health/live", operation="health"))

    async def get_health_ready(self) -> dict[str, Any]:
        """`GET /health/ready`: critical dependencies are up."""
        return dict(await self.get_json("/health/ready", operation="health"))

    async def get_health_deep(self) -> dict[str, Any]:
        """`GET /health/deep`: every dependency, naming the ones that are down."""
        return dict(await self.get_json("/health/deep", operation="health"))

    async def get_metrics(self) -> str:
        """`GET /metrics` in the Prometheus text format."""
        return (await self.request("GET", "/metrics", operation="health")).text


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
