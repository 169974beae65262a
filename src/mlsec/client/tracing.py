"""Client of the tracing service (port 8009): the OTLP receiver, the search of traces, one trace as a tree, RED
metrics, services and the service map; one method per endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint

OtlpContentType = Literal["application/x-protobuf", "application/json"]


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class TracingClient(ServiceClient):
    """Seed 000's TracingClient: every route of the service, typed by its arguments, answering dicts."""

    @endpoint("GET", "/")
    async def get_info(self) -> dict[str, Any]:
        """`GET /`: spans and traces stored, the oldest and newest span, the OTLP endpoint and the retention."""
        return dict(await self.get_json("/"))

    @endpoint("GET", "/dashboard")
    async def get_dashboard(self, *, window_minutes: int = 60) -> dict[str, Any]:
        """`GET /dashboard`: the window's totals, RED per service, slowest traces, newest errors, the map's edges."""
        return dict(await self.get_json("/dashboard", params={"window_minutes": window_minutes}))

    # --- receiving spans ------------------------------------------------------------------------------
    @endpoint("POST", "/v1/traces")
    async def send_traces(
        self,
        payload: bytes,
        *,
        content_type: OtlpContentType = "application/x-protobuf",
        content_encoding: Literal["gzip"] | None = None,
    ) -> bytes:
        """`POST /v1/traces`: an encoded OTLP `ExportTraceServiceRequest` (protobuf or OTLP JSON, gzip or not);
        answers the encoded `ExportTraceServiceResponse` (its `partialSuccess` names spans that were refused)."""
        headers = _present({"content-type": content_type, "content-encoding": content_encoding})
        return (await self.request("POST", "/v1/traces", content=payload, headers=headers)).content

    # --- traces ---------------------------------------------------------------------------------------
    @endpoint("GET", "/traces")
    async def get_traces(
        self,
        *,
        service: str | None = None,
        operation: str | None = None,
        tags: Mapping[str, str] | Sequence[str] | None = None,
        status: Literal["ok", "error"] | None = None,
        min_duration_ms: float | None = None,
        max_duration_ms: float | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        sort: Literal["start", "duration"] = "start",
        limit: int = 20,
    ) -> dict[str, Any]:
        """`GET /traces`: traces matching every filter, newest (or longest) first. Duration, time and status are
        the trace's; service, operation and each tag (`{"key": "value"}` or `["key=value"]`) one of its spans'."""
        params = _search_params(
            service, operation, tags, status, min_duration_ms, max_duration_ms, start, end, sort, limit
        )
        return dict(await self.get_json("/traces", params=params))

    @endpoint("GET", "/search/traces")
    async def search_traces(
        self,
        *,
        service: str | None = None,
        operation: str | None = None,
        tags: Mapping[str, str] | Sequence[str] | None = None,
        status: Literal["ok", "error"] | None = None,
        min_duration_ms: float | None = None,
        max_duration_ms: float | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        sort: Literal["start", "duration"] = "start",
        limit: int = 20,
    ) -> dict[str, Any]:
        """`GET /search/traces`: the same search as `get_traces` (seed 000's path)."""
        params = _search_params(
            service, operation, tags, status, min_duration_ms, max_duration_ms, start, end, sort, limit
        )
        return dict(await self.get_json("/search/traces", params=params))

    @endpoint("GET", "/traces/{trace_id}")
    async def get_trace(self, trace_id: str) -> dict[str, Any]:
        """`GET /traces/{trace_id}`: the summary, the spans depth-first with depth and offset, and the tree."""
        return dict(await self.get_json(f"/traces/{trace_id}"))

    @endpoint("GET", "/traces/{trace_id}/spans")
    async def get_trace_spans(self, trace_id: str) -> dict[str, Any]:
        """`GET /traces/{trace_id}/spans`: the trace's spans by start time."""
        return dict(await self.get_json(f"/traces/{trace_id}/spans"))

    @endpoint("GET", "/traces/{trace_id}/spans/{span_id}")
    async def get_span(self, trace_id: str, span_id: str) -> dict[str, Any]:
        """`GET /traces/{trace_id}/spans/{span_id}`: one span."""
        return dict(await self.get_json(f"/traces/{trace_id}/spans/{span_id}"))

    @endpoint("GET", "/traces/{trace_id}/export")
    async def export_trace(self, trace_id: str) -> dict[str, Any]:
        """`GET /traces/{trace_id}/export`: the trace as an OTLP JSON `ExportTraceServiceRequest` (for Jaeger or
        any OTLP tool)."""
        return dict(await self.get_json(f"/traces/{trace_id}/export"))

    # --- metrics --------------------------------------------------------------------------------------
    @endpoint("GET", "/metrics/performance")
    async def get_performance(
        self, *, window_minutes: int = 60, service: str | None = None, operation: str | None = None
    ) -> dict[str, Any]:
        """`GET /metrics/performance`: requests per service and operation: rate, errors, p50/p95/p99 (ms)."""
        params = _present({"window_minutes": window_minutes, "service": service, "operation": operation})
        return dict(await self.get_json("/metrics/performance", params=params))

    @endpoint("GET", "/metrics/errors")
    async def get_errors(self, *, window_minutes: int = 60, service: str | None = None) -> dict[str, Any]:
        """`GET /metrics/errors`: spans and errors in the window, by operation, and the newest error spans."""
        params = _present({"window_minutes": window_minutes, "service": service})
        return dict(await self.get_json("/metrics/errors", params=params))

    @endpoint("GET", "/metrics/traces")
    async def get_trace_metrics(self, *, window_minutes: int = 60) -> dict[str, Any]:
        """`GET /metrics/traces`: traces in the window, error traces, rate, duration percentiles, per minute."""
        return dict(await self.get_json("/metrics/traces", params={"window_minutes": window_minutes}))

    # --- services -------------------------------------------------------------------------------------
    @endpoint("GET", "/services")
    async def get_services(self) -> dict[str, Any]:
        """`GET /services`: every service that sent spans, its operations, spans and last time seen."""
        return dict(await self.get_json("/services"))

    @endpoint("GET", "/services/{name}/operations")
    async def get_service_operations(self, name: str) -> dict[str, Any]:
        """`GET /services/{name}/operations`: a service's operations, kinds, counts and last time seen."""
        return dict(await self.get_json(f"/services/{name}/operations"))

    @endpoint("GET", "/service-map")
    async def get_service_map(self, *, window_minutes: int = 60) -> dict[str, Any]:
        """`GET /service-map`: services and the calls between them over the window, per edge."""
        return dict(await self.get_json("/service-map", params={"window_minutes": window_minutes}))


def _search_params(
    service: str | None,
    operation: str | None,
    tags: Mapping[str, str] | Sequence[str] | None,
    status: str | None,
    min_duration_ms: float | None,
    max_duration_ms: float | None,
    start: datetime | None,
    end: datetime | None,
    sort: str,
    limit: int,
) -> list[tuple[str, str | int | float]]:
    """A search's query string: every filter given, one `tag=key=value` per tag."""
    pairs = tags.items() if isinstance(tags, Mapping) else (tag.partition("=")[::2] for tag in tags or ())
    present = _present(
        {
            "service": service,
            "operation": operation,
            "status": status,
            "min_duration_ms": min_duration_ms,
            "max_duration_ms": max_duration_ms,
            "start": _time(start),
            "end": _time(end),
            "sort": sort,
            "limit": limit,
        }
    )
    return [*present.items(), *(("tag", f"{key}={value}") for key, value in pairs)]
