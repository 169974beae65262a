"""The models page: the registered models and their newest versions with aliases, metrics and a link to their
MLflow run; each model's champion beside its challenger; the promotion ledger (who was champion when, and why);
what the model API and the model cache have loaded, with the cache's counters.

The training service's registry answer carries no metrics, so the metrics of the few versions shown are read
from their MLflow runs (`runs/get`), concurrently; a run MLflow does not answer shows no metrics, never an error.
A partial asked with `?fresh=1` (the page script does, when a `/ws` event says the registry changed) makes the
training service read MLflow now instead of answering its snapshot of the last few seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from mlsec.client import ServiceCallError
from mlsec.services.gateway.service.dashboard.pages import Page, View, part

MODELS_SHOWN = 20
VERSIONS_PER_MODEL = 5  # the newest ones; the champion and the challenger are shown even when older
RUNS_READ = 30  # at most this many MLflow runs read for one answer
LEDGER_MODELS = 10
LEDGER_PER_MODEL = 10
LEDGER_SHOWN = 30
PREFERRED_METRICS = (
    "f1",
    "f1_macro",
    "accuracy",
    "precision",
    "recall",
    "roc_auc",
    "roc_auc_ovr",
    "pr_auc",
    "rmse",
    "mae",
    "r2",
)
COUNTS = ("_rows", "_count", "_samples")


def metric_order(name: str) -> tuple[int, str]:
    return (PREFERRED_METRICS.index(name) if name in PREFERRED_METRICS else len(PREFERRED_METRICS), name)


def metric_figure(name: str, value: float) -> float | int:
    """MLflow keeps every metric as a float: counts (`train_rows`, ...) read better as integers."""
    return int(value) if name.endswith(COUNTS) and float(value).is_integer() else value


def run_link(mlflow_url: str, run_id: str, experiment_id: str | None) -> str:
    """The MLflow UI's page of a run (its direct route, which finds the experiment, when that is not known)."""
    base = mlflow_url.rstrip("/")
    if experiment_id:
        return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
    return f"{base}/#/runs/{run_id}"


async def _run(view: View, run_id: str) -> dict[str, Any] | None:
    """A run's experiment and metrics, or None when MLflow does not answer for it."""
    try:
        answer = await view.sdk.mlflow.get_run(run_id)
    except ServiceCallError:
        return None
    run = answer.get("run") or {}
    info, data = run.get("info") or {}, run.get("data") or {}
    metrics = {
        str(m["key"]): metric_figure(str(m["key"]), m["value"])
        for m in data.get("metrics") or []
        if isinstance(m, Mapping) and "key" in m and isinstance(m.get("value"), int | float)
    }
    return {"experiment_id": info.get("experiment_id"), "metrics": metrics}


def _shown_versions(model: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The newest versions of a model, and its champion and challenger wherever they are."""
    versions: list[dict[str, Any]] = list(model.get("versions") or [])
    keep = {model.get("champion_version"), model.get("challenger_version")} - {None}
    return [v for i, v in enumerate(versions) if i < VERSIONS_PER_MODEL or v.get("version") in keep]


def _version_row(
    version: Mapping[str, Any], runs: Mapping[str, dict[str, Any] | None], mlflow_url: str
) -> dict[str, Any]:
    run_id = version.get("run_id")
    run = runs.get(run_id) if run_id else None
    metrics = sorted((run or {}).get("metrics", {}).items(), key=lambda item: metric_order(item[0]))
    return {
        **version,
        "metrics": metrics,
        "metrics_read": run is not None,
        "run_url": run_link(mlflow_url, run_id, (run or {}).get("experiment_id")) if run_id else None,
    }


def _duel(model: Mapping[str, Any]) -> dict[str, Any]:
    """A model's champion and challenger side by side: every metric either has, and the difference."""
    by_version = {v["version"]: v for v in model["versions"]}
    champion = by_version.get(model.get("champion_version"))
    challenger = by_version.get(model.get("challenger_version"))
    champion_metrics = dict(champion["metrics"]) if champion else {}
    challenger_metrics = dict(challenger["metrics"]) if challenger else {}
    names = sorted(set(champion_metrics) | set(challenger_metrics), key=metric_order)
    rows = []
    for name in names:
        a, b = champion_metrics.get(name), challenger_metrics.get(name)
        rows.append(
            {"name": name, "champion": a, "challenger": b, "delta": b - a if a is not None and b is not None else None}
        )
    return {"name": model["name"], "champion": champion, "challenger": challenger, "metrics": rows}


async def _read_registry(view: View, *, fresh: bool = False) -> dict[str, Any]:
    return await part(view.sdk.training.get_model_registry(refresh=fresh))


def _names(registry: Mapping[str, Any]) -> list[str]:
    return [str(m["name"]) for m in (registry.get("data") or {}).get("models") or []]


async def _enrich(view: View, registry: dict[str, Any]) -> dict[str, Any]:
    """The registry with the shown versions' metrics and run links, and each model's champion/challenger duel."""
    mlflow_url = view.ctx.settings.mlflow_uri
    if "data" not in registry:
        return {"registry": registry, "models": [], "duels": [], "mlflow_url": mlflow_url}
    listed = list(registry["data"].get("models") or [])
    models = [{**m, "versions": _shown_versions(m)} for m in listed[:MODELS_SHOWN]]
    run_ids = list(dict.fromkeys(v["run_id"] for m in models for v in m["versions"] if v.get("run_id")))[:RUNS_READ]
    answers = await asyncio.gather(*(_run(view, run_id) for run_id in run_ids))
    runs = dict(zip(run_ids, answers, strict=True))
    for model in models:
        model["versions"] = [_version_row(v, runs, mlflow_url) for v in model["versions"]]
    return {
        "registry": registry,
        "models": models,
        "more_models": max(0, len(listed) - MODELS_SHOWN),
        "duels": [_duel(m) for m in models],
        "mlflow_url": mlflow_url,
        "metrics_unavailable": bool(run_ids) and all(answer is None for answer in answers),
    }


async def registered(view: View) -> dict[str, Any]:
    return await _enrich(view, await _read_registry(view, fresh=view.query.get("fresh") == "1"))


async def _ledger_of(view: View, registry: Mapping[str, Any]) -> dict[str, Any]:
    """The newest promotion decisions of the registered models, newest first."""
    if "data" not in registry:
        return {"ledger": {"records": [], "models": [], "unavailable": registry["unavailable"]}}
    names = _names(registry)[:LEDGER_MODELS]
    answers = await asyncio.gather(
        *(part(view.sdk.analytics.get_promotion_ledger(name, limit=LEDGER_PER_MODEL)) for name in names)
    )
    records = [r for answer in answers if "data" in answer for r in answer["data"].get("records") or []]
    records.sort(key=lambda r: str(r.get("created_at") or ""), reverse=True)
    failed = next((answer["unavailable"] for answer in answers if "unavailable" in answer), None)
    return {"ledger": {"records": records[:LEDGER_SHOWN], "models": names, "unavailable": failed}}


async def ledger(view: View) -> dict[str, Any]:
    return await _ledger_of(view, await _read_registry(view))


async def cache(view: View) -> dict[str, Any]:
    model_api, model_cache, stats = await asyncio.gather(
        part(view.sdk.model_api.get_models()),
        part(view.sdk.model_cache.get_models()),
        part(view.sdk.model_cache.get_stats()),
    )
    return {"loaded": {"model-api": model_api, "model-cache": model_cache}, "stats": stats}


async def load(view: View) -> dict[str, Any]:
    registry, loaded = await asyncio.gather(_read_registry(view), cache(view))
    enriched, history = await asyncio.gather(_enrich(view, registry), _ledger_of(view, registry))
    names = _names(registry)
    default = next((m["name"] for m in enriched["models"] if m.get("champion_version")), names[0] if names else "")
    return {**enriched, **loaded, **history, "model_names": names, "default_model": default}


PAGE = Page(
    name="models",
    title="Models",
    load=load,
    partials={"registered": registered, "champion-challenger": registered, "ledger": ledger, "cache": cache},
    topics=("models", "promotions", "training"),
)
