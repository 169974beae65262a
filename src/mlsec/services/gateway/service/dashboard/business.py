"""The business page: the business-metrics service (port 8004) as a manager reads it. The platform's KPIs over a
chosen period as tiles (predictions, threats, detection rate, false-positive rate, p99 latency, availability,
cost per 1,000 predictions), each model version's figures and cost, the SLA compliance of every model with an
SLA and the newest breaches, one KPI's trend (slope per hour with its 95% interval) and the stored reports, with
a form that generates one (operators) and a download link for each.

The page's script asks the gateway's forwarded `/api/business-metrics/...` routes from the browser with the
session, as the traces page does with the tracing service, so changing the period or the KPI never reloads the
page. The server renders the frame (the choices of period, KPI and report format) and the collector's status
through the SDK: when the service does not answer, the page says so at once, before any script runs.
"""

from __future__ import annotations

from typing import Any

from mlsec.services.gateway.service.dashboard.pages import Page, View, part

PERIODS = (("1h", "last hour"), ("24h", "last 24 hours"), ("7d", "last 7 days"), ("30d", "last 30 days"))
DEFAULT_PERIOD = "24h"
# The tiles: (KPI, label, how the script formats it). The KPIs are the service's own names (its /metrics/summary
# `totals`); the script reads each from there and says "no data" for a null.
TILES = (
    ("predictions", "Predictions", "count"),
    ("threats_detected", "Threats detected", "count"),
    ("detection_rate", "Detection rate", "percent"),
    ("false_positive_rate", "False-positive rate", "percent"),
    ("latency_p99_ms", "Latency p99", "ms"),
    ("availability", "Availability", "percent"),
    ("cost_per_1k_predictions", "Cost per 1,000 predictions", "money"),
)
TREND_KPIS = (
    ("predictions", "Predictions"),
    ("throughput_per_s", "Throughput (per second)"),
    ("threats_detected", "Threats detected"),
    ("threat_rate", "Threat rate"),
    ("latency_p99_ms", "Latency p99 (ms)"),
    ("latency_p50_ms", "Latency p50 (ms)"),
    ("error_rate", "Error rate"),
    ("availability", "Availability"),
    ("detection_rate", "Detection rate"),
    ("false_positive_rate", "False-positive rate"),
    ("cost", "Cost"),
    ("cost_per_1k_predictions", "Cost per 1,000 predictions"),
)
REPORT_FORMATS = (("pdf", "PDF"), ("html", "HTML with charts"), ("csv", "CSV"), ("json", "JSON"))
REPORTS_SHOWN = 20


async def collector(view: View) -> dict[str, Any]:
    """The collector's status (`GET /`), or why the service did not answer: the page's error state."""
    return {"collector": await part(view.sdk.business_metrics.get_status())}


async def load(view: View) -> dict[str, Any]:
    return {
        **(await collector(view)),
        "periods": PERIODS,
        "default_period": DEFAULT_PERIOD,
        "tiles": TILES,
        "trend_kpis": TREND_KPIS,
        "report_formats": REPORT_FORMATS,
        "reports_shown": REPORTS_SHOWN,
    }


PAGE = Page(name="business", title="Business", load=load, topics=("business",))
