"""The monitoring page: one model's drift history (chart) and its latest run feature by feature, the drift
alerts, the model's performance over time from labelled feedback, and the auto-retrain queue and settings.

The model is chosen with `?model=` (the page's `select#drift-model`; every part that depends on it is asked
with it), the platform's default model when absent.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from mlsec.client import ServiceCallError
from mlsec.core.limits import NAME_PATTERN
from mlsec.core.settings import ServingSettings
from mlsec.services.gateway.service.dashboard.pages import Page, View, gather_parts, part

DRIFT_RUNS = 50
ALERTS_SHOWN = 50
FEATURE_RUNS = 12  # the latest checks read in full for the per-feature chart (one call each, concurrently)
PERFORMANCE_HOURS = 24.0 * 7
PERFORMANCE_BUCKETS = 28
VERSIONS_CHARTED = 3
# The serving services' default model (the gateway has no setting of its own for it).
DEFAULT_MODEL = str(ServingSettings.model_fields["default_model"].default)
SEVERITY_LEVEL = {"none": 0, "low": 1, "medium": 2, "high": 3}
_NAME = re.compile(NAME_PATTERN)


def chosen_model(view: View) -> str:
    """The model the page shows: `?model=` when it is a model name, else the platform's default model."""
    model = view.query.get("model", "")
    return model if _NAME.match(model) else DEFAULT_MODEL


async def model_names(view: View, chosen: str) -> list[str]:
    """The registry's models (the chosen one and the default model always among them), sorted."""
    listed = await part(view.sdk.training.get_models())
    names = {str(m["name"]) for m in (listed.get("data") or {}).get("models", []) if m.get("name")}
    return sorted(names | {chosen, DEFAULT_MODEL})


def epoch(value: Any) -> float | None:
    """An ISO timestamp as epoch seconds (the charts' x), None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


async def absent_on_404(call: Any, why: str) -> dict[str, Any]:
    """`part(call)`, except that a 404 (nothing recorded yet) is `{"empty": why}` rather than unavailable."""
    try:
        return {"data": await call}
    except ServiceCallError as exc:
        if exc.status_code == 404:
            return {"empty": why}
        return {"unavailable": f"{exc.service}: {exc.error_type.replace('_', ' ')} ({exc.status_code or '-'})"}


def drift_chart(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Oldest first: the number of drifted features and the severity (0 none to 3 high) of each run."""
    ordered = sorted(
        (r for r in runs if epoch(r.get("created_at")) is not None), key=lambda r: epoch(r["created_at"]) or 0
    )
    return {
        "x": [epoch(r["created_at"]) for r in ordered],
        "series": [
            {"label": "drifted features", "values": [len(r.get("drifted_features") or []) for r in ordered]},
            {"label": "severity (0-3)", "values": [SEVERITY_LEVEL.get(str(r.get("severity")), 0) for r in ordered]},
            {"label": "score drift (0/1)", "values": [1 if r.get("model_drift") else 0 for r in ordered]},
        ],
        "yLabel": "drift",
    }


def feature_chart(details: list[dict[str, Any]]) -> dict[str, Any]:
    """Oldest first, one series per feature: the statistic of its first test in each check (null where a check
    did not compare that feature), so a person sees which feature moved, and when."""
    ordered = sorted(
        (d for d in details if epoch(d.get("created_at")) is not None), key=lambda d: epoch(d["created_at"]) or 0
    )
    per_run: list[dict[str, float]] = []
    for run in ordered:
        figures: dict[str, float] = {}
        for feature in (run.get("report") or {}).get("features", []):
            tests = feature.get("tests") or []
            if tests and isinstance(tests[0].get("statistic"), int | float):
                figures[str(feature.get("feature"))] = float(tests[0]["statistic"])
        per_run.append(figures)
    names = sorted({name for figures in per_run for name in figures})
    return {
        "x": [epoch(r["created_at"]) for r in ordered],
        "series": [{"label": name, "values": [figures.get(name) for figures in per_run]} for name in names],
        "yLabel": "test statistic",
    }


async def drift(view: View) -> dict[str, Any]:
    model = chosen_model(view)
    history = await part(view.sdk.analytics.get_drift_history(model_name=model, limit=DRIFT_RUNS))
    runs = (history.get("data") or {}).get("runs", [])
    ids = [int(run["id"]) for run in runs[:FEATURE_RUNS] if run.get("id")]
    read = await asyncio.gather(*(part(view.sdk.analytics.get_drift_run(run_id)) for run_id in ids))
    details = [answer["data"] for answer in read if "data" in answer]
    return {
        "model": model,
        "history": history,
        "latest": read[0] if read else None,
        "drift_chart": drift_chart(runs),
        "feature_chart": feature_chart(details),
    }


async def alerts(view: View) -> dict[str, Any]:
    return {"alerts": await part(view.sdk.analytics.get_drift_alerts(limit=ALERTS_SHOWN))}


def performance_chart(performance: dict[str, Any]) -> dict[str, Any]:
    """Per version (the newest few), accuracy and F1 per time bucket; null where a bucket had no feedback."""
    versions = performance.get("versions", [])[:VERSIONS_CHARTED]
    starts = sorted({t for v in versions for b in v.get("series", []) if (t := epoch(b.get("start"))) is not None})
    series = []
    for version in versions:
        by_start = {epoch(b.get("start")): b for b in version.get("series", [])}
        for metric, label in (("accuracy", "accuracy"), ("f1", "F1")):
            values = [(by_start.get(t) or {}).get(metric) for t in starts]
            series.append({"label": f"v{version.get('model_version')} {label}", "values": values})
    return {"x": starts, "series": series, "yLabel": "score"}


async def performance(view: View) -> dict[str, Any]:
    model = chosen_model(view)
    answer = await absent_on_404(
        view.sdk.analytics.get_model_performance(model, window_hours=PERFORMANCE_HOURS, buckets=PERFORMANCE_BUCKETS),
        f"No labelled feedback for {model} in the last {PERFORMANCE_HOURS / 24:.0f} days.",
    )
    chart = performance_chart(answer["data"]) if "data" in answer else {"x": [], "series": []}
    return {"model": model, "performance": answer, "performance_chart": chart}


async def retrain(view: View) -> dict[str, Any]:
    return {"queue": await part(view.sdk.analytics.get_retrain_queue())}


async def settings(view: View) -> dict[str, Any]:
    """The auto-retrain and promotion settings that apply to the chosen model (its own, else the defaults)."""
    model = chosen_model(view)
    config = await part(view.sdk.analytics.get_auto_retrain_config(model_name=model))
    applied = None
    if "data" in config:
        models = config["data"].get("models") or [config["data"].get("defaults")]
        applied = models[0] if models else None
    return {"model": model, "config": config, "applied": applied}


async def load(view: View) -> dict[str, Any]:
    chosen = chosen_model(view)
    names, parts = await asyncio.gather(
        model_names(view, chosen), gather_parts(view, drift, alerts, performance, retrain, settings)
    )
    return {"models": names, "model": chosen, **parts}


PAGE = Page(
    name="monitoring",
    title="Monitoring",
    load=load,
    partials={"drift": drift, "alerts": alerts, "performance": performance, "retrain": retrain, "settings": settings},
    topics=("drift", "alerts", "promotions", "training"),
)
