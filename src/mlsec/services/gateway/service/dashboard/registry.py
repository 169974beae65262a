"""The registry page: the control tower's view of MLflow. Every registered version grouped by stage (Production
holds a model's champion, Staging its challenger, the rest below) with its metrics in brief; the monitored
versions, which an operator adds and removes; the registry snapshot's freshness (age, stale or not and why, where
it came from, the last refresh and how long it took, the refreshes events caused, the file it is kept in), which
an operator refreshes now; and the control tower's summary figures.

Everything comes from the control tower (port 8010) through the SDK, never from MLflow directly; the control
tower is itself the registry's cache and says how fresh each answer is. The page's writes go from its script to
the gateway's forwarded control-tower routes (`/api/control-tower/...`, the SDK's own endpoints), with the
session's CSRF token, so the gateway's permission table decides who may make them, as for every other page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mlsec.services.gateway.service.dashboard.models import metric_figure, metric_order
from mlsec.services.gateway.service.dashboard.pages import Page, View, gather_parts, part

STAGES = (("production", "Production"), ("staging", "Staging"), ("other", "Other versions"))
ROWS_PER_STAGE = 50  # the newest ones per model first; the rest are counted
MONITORED_SHOWN = 100
METRICS_SHOWN = 4
MODEL_TYPES = ("classifier", "regressor")


def _newest_first(info: Mapping[str, Any]) -> tuple[str, int, str]:
    """By model name, then version number from the newest (a version that is not a number after them)."""
    version = str(info.get("version") or "")
    return (str(info.get("name") or ""), -int(version) if version.isdigit() else 1, version)


def compact(info: Mapping[str, Any]) -> dict[str, Any]:
    """A version for a table row: its metrics as (name, value) pairs, the telling ones first, a few of them."""
    metrics = sorted(
        ((str(name), metric_figure(str(name), value)) for name, value in (info.get("metrics") or {}).items()),
        key=lambda item: metric_order(item[0]),
    )
    return {**info, "metrics": metrics[:METRICS_SHOWN], "more_metrics": max(0, len(metrics) - METRICS_SHOWN)}


def stage_key(stage: Any) -> str:
    """production, staging, or other (MLflow's own None and Archived, anything else)."""
    key = str(stage or "").lower()
    return key if key in ("production", "staging") else "other"


def by_stage(models: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The versions in Production, in Staging and the others, each group newest first per model."""
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in STAGES}
    for info in sorted(models, key=_newest_first):
        groups[stage_key(info.get("stage"))].append(compact(info))
    return [
        {"key": key, "title": title, "rows": groups[key][:ROWS_PER_STAGE], "total": len(groups[key])}
        for key, title in STAGES
    ]


def file_size(size: Any) -> str:
    """A byte count as B, KiB or MiB ("-" when there is no file)."""
    if not isinstance(size, int) or isinstance(size, bool):
        return "-"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1048576:.1f} MiB"


def age(minutes: Any) -> str:
    """A snapshot's age for a person: seconds, minutes or hours ("-" when there is no snapshot)."""
    if not isinstance(minutes, int | float) or isinstance(minutes, bool):
        return "-"
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 120:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


async def summary(view: View) -> dict[str, Any]:
    return {"summary": await part(view.sdk.control_tower.get_dashboard_summary())}


async def stages(view: View) -> dict[str, Any]:
    answer = await part(view.sdk.control_tower.get_all_models())
    return {"all_models": answer, "stages": by_stage(answer["data"]) if "data" in answer else []}


async def monitored(view: View) -> dict[str, Any]:
    answer = await part(view.sdk.control_tower.get_monitored_models())
    rows = [compact(info) for info in sorted(answer.get("data") or [], key=_newest_first)]
    return {"monitored": answer, "monitored_rows": rows[:MONITORED_SHOWN], "monitored_total": len(rows)}


async def cache(view: View) -> dict[str, Any]:
    answer = await part(view.sdk.control_tower.get_cache_info())
    info: dict[str, Any] = (answer.get("data") or {}).get("cache_info") or {}
    persistence = info.get("persistence") or {}
    return {
        "cache": answer,
        "cache_info": info,
        "mlflow_connected": ((answer.get("data") or {}).get("system_status") or {}).get("mlflow_connected"),
        "snapshot_age": age(info.get("cache_age_minutes")),
        "snapshot_file_size": file_size(persistence.get("cache_file_size_bytes")),
    }


async def load(view: View) -> dict[str, Any]:
    parts = await gather_parts(view, summary, stages, monitored, cache)
    names = sorted({str(info["name"]) for info in parts["all_models"].get("data") or [] if info.get("name")})
    return {**parts, "model_names": names, "model_types": MODEL_TYPES}


PAGE = Page(
    name="registry",
    title="Registry",
    load=load,
    partials={"summary": summary, "stages": stages, "monitored": monitored, "cache": cache},
    topics=("training", "promotions"),  # a version registered, champion moved: the control tower refreshes that model
)
