"""Client of the business metrics service (port 8004): KPIs per model version, performance, security, costs,
SLAs and their compliance, trends and correlation of KPIs, stored reports and exports; one method per endpoint.

Every read takes the same window: `period` ("15m", "24h", "7d", ...; the service defaults to the last 24 h) or
`start` and `end`, optionally a `resolution` ("minute", "hour", "day") and a model (and version) to narrow to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from mlsec.client.base import ServiceClient
from mlsec.client.endpoint import endpoint

Resolution = Literal["minute", "hour", "day"]
ReportFormat = Literal["json", "csv", "html", "pdf"]
ExportFormat = Literal["csv", "json", "prometheus"]


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without the ones left unset; datetimes as ISO 8601, sequences repeated."""
    present: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            present[key] = value.isoformat()
        elif isinstance(value, (list, tuple)):
            present[key] = list(value)
        else:
            present[key] = value
    return present


def _window(
    period: str | None,
    start: datetime | None,
    end: datetime | None,
    resolution: Resolution | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The common query of every read: the window, its resolution and the model it is narrowed to."""
    return _present(
        {
            "period": period,
            "start": start,
            "end": end,
            "resolution": resolution,
            "model_name": model_name,
            "model_version": model_version,
            **extra,
        }
    )


class BusinessMetricsClient(ServiceClient):
    """Seed 000's BusinessMetricsClient: every route of the service, typed by its arguments, answering dicts
    (bytes for a report's content, text for an export)."""

    @endpoint("GET", "/")
    async def get_status(self) -> dict[str, Any]:
        """`GET /`: the collector's sources (last success or failure), its last round, rows kept, prices."""
        return dict(await self.get_json("/"))

    async def get_metrics_json(self) -> dict[str, Any]:
        """`GET /metrics?format=json` (the route `get_metrics` declares): the last 24 h's business summary
        instead of the Prometheus text. Asked by the query, not by `Accept`, so a cache keyed on the address
        (the gateway's) never hands one form to a caller who asked for the other."""
        return dict(await self.get_json("/metrics", params={"format": "json"}))

    # --- KPIs -----------------------------------------------------------------------------------------
    @endpoint("GET", "/metrics/summary")
    async def get_summary(
        self, *, period: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, Any]:
        """`GET /metrics/summary`: every KPI over the window, the platform's totals and per model version."""
        return dict(await self.get_json("/metrics/summary", params=_window(period, start, end)))

    @endpoint("GET", "/metrics/kpis")
    async def get_kpis(
        self,
        *,
        kpis: Sequence[str] | None = None,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """`GET /metrics/kpis`: the named KPIs (all when none) per model version, per service and in total."""
        params = _window(period, start, end, None, model_name, model_version, kpi=kpis)
        return dict(await self.get_json("/metrics/kpis", params=params))

    @endpoint("GET", "/metrics/export")
    async def export_metrics(
        self,
        *,
        format: ExportFormat = "csv",
        kpis: Sequence[str] | None = None,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: Resolution | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> str:
        """`GET /metrics/export`: the KPI series as CSV (start, kpi, scope, model_name, model_version, service,
        value), JSON or Prometheus text, as the text the service sent."""
        params = _window(period, start, end, resolution, model_name, model_version, format=format, kpi=kpis)
        return (await self.request("GET", "/metrics/export", params=params)).text

    # --- performance, security, costs ----------------------------------------------------------------
    @endpoint("GET", "/performance")
    async def get_performance(
        self, *, period: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, Any]:
        """`GET /performance`: per model version throughput, latency percentiles and error rate; per service
        availability and MTTR, with the tracing service's RED figures (null when it does not answer)."""
        return dict(await self.get_json("/performance", params=_window(period, start, end)))

    @endpoint("GET", "/throughput")
    async def get_throughput(
        self,
        *,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: Resolution | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """`GET /throughput`: predictions per second per model version, as a series."""
        params = _window(period, start, end, resolution, model_name, model_version)
        return dict(await self.get_json("/throughput", params=params))

    @endpoint("GET", "/latency")
    async def get_latency(
        self,
        *,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: Resolution | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """`GET /latency`: p50/p95/p99 per model version, as a series."""
        params = _window(period, start, end, resolution, model_name, model_version)
        return dict(await self.get_json("/latency", params=params))

    @endpoint("GET", "/security")
    async def get_security(
        self, *, period: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, Any]:
        """`GET /security`: threats detected and blocked, detection rate and false-positive rate on labelled
        feedback, drift alerts, and the red team's detection rate read live from analytics."""
        return dict(await self.get_json("/security", params=_window(period, start, end)))

    @endpoint("GET", "/threats")
    async def get_threats(
        self,
        *,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: Resolution | None = None,
        model_name: str | None = None,
    ) -> dict[str, Any]:
        """`GET /threats`: threats detected per model, as a series."""
        return dict(await self.get_json("/threats", params=_window(period, start, end, resolution, model_name)))

    @endpoint("GET", "/compliance")
    async def get_compliance(
        self, *, period: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, Any]:
        """`GET /compliance`: the data-privacy service's compliance status and every model's SLA compliance."""
        return dict(await self.get_json("/compliance", params=_window(period, start, end)))

    @endpoint("GET", "/costs")
    async def get_costs(
        self,
        *,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> dict[str, Any]:
        """`GET /costs`: per model version predictions, CPU seconds, memory GiB-hours, cost and cost per 1,000
        predictions, with the prices and currency used."""
        params = _window(period, start, end, None, model_name, model_version)
        return dict(await self.get_json("/costs", params=params))

    # --- trends and correlation -----------------------------------------------------------------------
    @endpoint("GET", "/analytics/trends")
    async def get_trends(
        self,
        kpi: str,
        *,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: Resolution | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
        service: str | None = None,
    ) -> dict[str, Any]:
        """`GET /analytics/trends`: one KPI's series, its trend (slope per hour with a 95% interval, p-value,
        direction) and its change points."""
        params = _window(period, start, end, resolution, model_name, model_version, kpi=kpi, service=service)
        return dict(await self.get_json("/analytics/trends", params=params))

    @endpoint("GET", "/analytics/correlation")
    async def get_correlation(
        self,
        kpis: Sequence[str],
        *,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: Resolution | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
        service: str | None = None,
    ) -> dict[str, Any]:
        """`GET /analytics/correlation`: Pearson and Spearman (with p-values) of each pair of the KPIs."""
        params = _window(period, start, end, resolution, model_name, model_version, kpi=kpis, service=service)
        return dict(await self.get_json("/analytics/correlation", params=params))

    # --- SLAs -----------------------------------------------------------------------------------------
    @endpoint("GET", "/slas")
    async def get_slas(self, *, model_name: str | None = None) -> dict[str, Any]:
        """`GET /slas`: every SLA (or one model's): a model or one of its versions, its objectives and window."""
        return dict(await self.get_json("/slas", params=_present({"model_name": model_name})))

    @endpoint("PUT", "/slas/{model_name}")
    async def set_sla(
        self,
        model_name: str,
        *,
        model_version: str | None = None,
        latency_p99_ms: float | None = None,
        availability_min: float | None = None,
        error_rate_max: float | None = None,
        window_minutes: int = 60,
    ) -> dict[str, Any]:
        """`PUT /slas/{model_name}`: set a model's (or one version's) SLA; at least one objective."""
        body = _present(
            {
                "model_version": model_version,
                "latency_p99_ms": latency_p99_ms,
                "availability_min": availability_min,
                "error_rate_max": error_rate_max,
                "window_minutes": window_minutes,
            }
        )
        return dict((await self.request("PUT", f"/slas/{model_name}", json=body)).json())

    @endpoint("DELETE", "/slas/{model_name}")
    async def delete_sla(self, model_name: str, *, model_version: str | None = None) -> None:
        """`DELETE /slas/{model_name}`: remove a model's model-wide SLA, or one version's (its breaches stay)."""
        await self.request("DELETE", f"/slas/{model_name}", params=_present({"model_version": model_version}))

    @endpoint("GET", "/slas/{model_name}/compliance")
    async def get_sla_compliance(
        self,
        model_name: str,
        *,
        model_version: str | None = None,
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[str, Any]:
        """`GET /slas/{model_name}/compliance`: per version whether each objective was met, and its breaches; over
        each SLA's own window ending now unless a period (or start and end) is given."""
        params = _window(period, start, end, None, None, model_version)
        return dict(await self.get_json(f"/slas/{model_name}/compliance", params=params))

    @endpoint("GET", "/slas/breaches")
    async def get_sla_breaches(self, *, model_name: str | None = None, limit: int | None = None) -> dict[str, Any]:
        """`GET /slas/breaches`: the newest SLA breaches (objective, value, threshold, window)."""
        params = _present({"model_name": model_name, "limit": limit})
        return dict(await self.get_json("/slas/breaches", params=params))

    # --- reports --------------------------------------------------------------------------------------
    @endpoint("POST", "/reports/generate", operation="training")
    async def generate_report(
        self,
        *,
        format: ReportFormat = "json",
        period: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """`POST /reports/generate`: build and store a report of the window; answers its metadata (id, size).
        A long-running call (charts, a PDF), so it has the long timeout class."""
        body = _present({"format": format, "period": period, "start": start, "end": end, "title": title})
        response = await self.request("POST", "/reports/generate", json=body, operation="training")
        return dict(response.json())

    @endpoint("GET", "/reports")
    async def get_reports(self, *, limit: int | None = None, offset: int | None = None) -> dict[str, Any]:
        """`GET /reports`: the stored reports, newest first (metadata only)."""
        return dict(await self.get_json("/reports", params=_present({"limit": limit, "offset": offset})))

    @endpoint("GET", "/reports/{report_id}")
    async def get_report(self, report_id: int | str) -> dict[str, Any]:
        """`GET /reports/{report_id}`: one stored report's metadata."""
        return dict(await self.get_json(f"/reports/{report_id}"))

    @endpoint("GET", "/reports/{report_id}/download")
    async def download_report(self, report_id: int | str) -> bytes:
        """`GET /reports/{report_id}/download`: the report's content as stored (JSON, CSV, HTML or PDF bytes)."""
        return (await self.request("GET", f"/reports/{report_id}/download")).content
