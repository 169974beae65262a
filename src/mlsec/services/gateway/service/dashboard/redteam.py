"""The red-team page: a model's detection rate per attack technique in its latest run, the trend over its runs
(overall and per technique), the latest runs of every model, and a button that runs the suite now.

The model is chosen with `?model=` (`select#redteam-model`), the platform's default model when absent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mlsec.services.gateway.service.dashboard.monitoring import chosen_model, epoch, model_names
from mlsec.services.gateway.service.dashboard.pages import Page, View, gather_parts, part

RUNS_SHOWN = 10


def technique_chart(techniques: list[dict[str, Any]]) -> dict[str, Any]:
    """Categories on x (0..n-1, the table beside the chart names them), the detection rate on y."""
    return {
        "x": list(range(len(techniques))),
        "series": [{"label": "detection rate", "values": [t.get("detection_rate") for t in techniques]}],
        "time": False,
        "xLabel": "technique (#)",
        "yLabel": "detection rate",
    }


async def summary(view: View) -> dict[str, Any]:
    model = chosen_model(view)
    answer = await part(view.sdk.analytics.get_red_team_summary(model_name=model))
    latest = next(iter((answer.get("data") or {}).get("models", [])), None)
    techniques = list(latest.get("techniques", [])) if latest else []
    return {"model": model, "summary": answer, "latest": latest, "technique_chart": technique_chart(techniques)}


def trend_chart(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Oldest run first: the overall detection rate and each technique's (null where a run lacked it)."""
    ordered = [r for r in runs if epoch(r.get("created_at")) is not None]
    names = sorted({t["technique"] for r in ordered for t in r.get("techniques", []) if t.get("technique")})
    series = [{"label": "overall", "values": [r.get("detection_rate") for r in ordered]}]
    for name in names:
        rates = [{t.get("technique"): t.get("detection_rate") for t in r.get("techniques", [])} for r in ordered]
        series.append({"label": name, "values": [rate.get(name) for rate in rates]})
    return {"x": [epoch(r["created_at"]) for r in ordered], "series": series, "yLabel": "detection rate"}


async def trend(view: View) -> dict[str, Any]:
    model = chosen_model(view)
    answer = await part(view.sdk.analytics.get_red_team_trends(model_name=model))
    found = next(iter((answer.get("data") or {}).get("models", [])), None)
    runs = list(found.get("runs", [])) if found else []
    return {"model": model, "trends": answer, "trend": found, "trend_chart": trend_chart(runs)}


async def runs(view: View) -> dict[str, Any]:
    return {"runs": await part(view.sdk.analytics.get_red_team_runs(limit=RUNS_SHOWN))}


async def load(view: View) -> dict[str, Any]:
    chosen = chosen_model(view)
    names, parts = await asyncio.gather(model_names(view, chosen), gather_parts(view, summary, trend, runs))
    return {"models": names, "model": chosen, **parts}


PAGE = Page(
    name="redteam",
    title="Red team",
    load=load,
    partials={"summary": summary, "trend": trend, "runs": runs},
    topics=("redteam", "alerts"),
)
