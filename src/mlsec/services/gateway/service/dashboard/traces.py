"""The traces page: the tracing service (port 8009) as a person reads it. Search traces by service, operation,
tags, status, the trace's duration and its start time; open one as a waterfall of its spans (each span's
attributes on a click, the trace as OTLP JSON to download); the service map as a graph; RED figures per service;
the slowest prediction traces of the last hour and the newest logged predictions, each a link to its waterfall.

The page's script asks the gateway's forwarded `/api/tracing/...` routes from the browser (with the session),
as an application would, so searching and opening a trace never waits for a page load and every read is a
viewer's. The server renders the frame (the search form's choices, and the trace a link opens:
`/ui/traces?trace=<id>`, the address an alert or a prediction links to) and the newest predictions of the default
model from the serving services' prediction logs (through the SDK), each with its `trace_id`.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from mlsec.services.gateway.service.dashboard.monitoring import DEFAULT_MODEL
from mlsec.services.gateway.service.dashboard.pages import Page, View, part

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")  # the tracing service's own id: 32 lower-case hex characters
PAGE_PATH = "/ui/traces"
RANGES = (  # the search's time range: (value, label); minutes are the script's (RANGE_MINUTES in traces.js)
    ("15m", "last 15 minutes"),
    ("1h", "last hour"),
    ("6h", "last 6 hours"),
    ("24h", "last 24 hours"),
    ("7d", "last 7 days"),
    ("all", "any time"),
    ("custom", "from ... to ..."),
)
WINDOWS = ((15, "15 minutes"), (60, "1 hour"), (360, "6 hours"), (1440, "24 hours"), (10080, "7 days"))
SORTS = (("start", "newest first"), ("duration", "longest first"))
STATUSES = (("", "any"), ("error", "with an error"), ("ok", "without an error"))
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000  # the tracing service's own bound of `limit`
PREDICTIONS_SHOWN = 10


def trace_link(trace_id: Any) -> str | None:
    """The page's address for one trace (what an alert or a prediction links to), None for anything not an id."""
    if not isinstance(trace_id, str):
        return None
    chosen = trace_id.strip().lower()
    return f"{PAGE_PATH}?trace={chosen}" if TRACE_ID.match(chosen) else None


def chosen_trace(view: View) -> str:
    """The trace the page opens (`?trace=`), "" when none or not a trace id."""
    chosen = view.query.get("trace", "").strip().lower()
    return chosen if TRACE_ID.match(chosen) else ""


def newest_predictions(logs: dict[str, dict[str, Any]], limit: int = PREDICTIONS_SHOWN) -> list[dict[str, Any]]:
    """The newest records of the serving services' logs together (`{service: answer}`), each with who served it."""
    rows = [
        {**record, "served_by": service, "trace": trace_link(record.get("trace_id"))}
        for service, answer in logs.items()
        for record in (answer.get("data") or {}).get("records") or []
    ]
    rows.sort(key=lambda row: str(row.get("created_at") or ""), reverse=True)
    return rows[:limit]


async def predictions(view: View) -> dict[str, Any]:
    """The default model's newest predictions in the model cache's and the model API's logs (every traffic class)."""
    asked = {
        "model-cache": part(
            view.sdk.model_cache.get_prediction_log(DEFAULT_MODEL, newest_first=True, limit=PREDICTIONS_SHOWN)
        ),
        "model-api": part(
            view.sdk.model_api.get_prediction_log(DEFAULT_MODEL, newest_first=True, limit=PREDICTIONS_SHOWN)
        ),
    }
    logs = dict(zip(asked, await asyncio.gather(*asked.values()), strict=True))
    unavailable = [answer["unavailable"] for answer in logs.values() if "unavailable" in answer]
    return {
        "prediction_model": DEFAULT_MODEL,
        "predictions": newest_predictions(logs),
        "predictions_unavailable": "; ".join(unavailable) if len(unavailable) == len(logs) else "",
    }


async def load(view: View) -> dict[str, Any]:
    return {
        **(await predictions(view)),
        "trace_id": chosen_trace(view),
        "ranges": RANGES,
        "windows": WINDOWS,
        "sorts": SORTS,
        "statuses": STATUSES,
        "default_limit": DEFAULT_LIMIT,
        "max_limit": MAX_LIMIT,
    }


PAGE = Page(name="traces", title="Traces", load=load, partials={"predictions": predictions})
