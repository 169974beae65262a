"""Drift on live traffic: a sliding window of a model's prediction log against its training reference.

Only production traffic is read (mlsec.core.traffic): the platform's own red-team runs, promotion evaluations
and synthetic load go through the same serving path but never into a drift check.

The reference is the profile logged with the model version at training (`reference/profile.json` in its
MLflow run: per feature a seeded sample of up to 1,000 values, or category counts). The window is read from
both serving services' prediction logs (the gateway's unified predictions go to the model cache first), the
newest `max_rows` predictions of the version now served. For text models the features are those the
serving services log per prediction: length, word count, character-class shares, the model's score, and
for a hash-chosen sample of the predictions the projection of the model's own features (`proj_*`); the
score's drift is reported as model drift, the rest as data drift.

A prediction outside the projection sample has no `proj_*` value at all, which is not a missing value: it
is left out of that feature rather than counted as missing. A feature with fewer values in the window than
`min_rows` (a young window, a small sample) is not tested; the check says which and why
(`report.skipped_features`) and tests the others.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from mlsec.client import ServiceCallError
from mlsec.core.errors import ServiceUnavailableError
from mlsec.core.traffic import PRODUCTION
from mlsec.ml.projection import is_projection_feature
from mlsec.services.analytics.errors import NotEnoughTrafficError, ReferenceNotFoundError
from mlsec.services.analytics.schemas.configs import DriftSettings
from mlsec.services.analytics.service.references import reference_columns
from mlsec.services.analytics.state import Analytics

SERVING_SERVICES = ("model_api", "model_cache")
LOG_PAGE = 10_000


async def served_version(analytics: Analytics, model_name: str) -> str:
    """The version the model API serves by default (its champion)."""
    try:
        detail = await analytics.sdk.model_api.get_model(model_name)
    except ServiceCallError as exc:
        if exc.status_code == 404:
            raise ReferenceNotFoundError(model_name, "?", "the model API does not know this model") from exc
        raise ServiceUnavailableError(
            f"the model API is not answering ({exc.error_type})", details={"service": "model-api"}
        ) from exc
    return str(detail["default_version"])


async def window_records(
    analytics: Analytics, model_name: str, version: str, *, since: datetime, max_rows: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The newest `max_rows` production predictions of a model version since `since` (red-team, evaluation and
    synthetic traffic never count), from every serving service that answers; and per service, what happened
    ("ok: N rows" or why it was skipped)."""
    records: list[dict[str, Any]] = []
    sources: dict[str, str] = {}
    for service in SERVING_SERVICES:
        client = getattr(analytics.sdk, service)
        try:
            page = await client.get_prediction_log(
                model_name, since=since, newest_first=True, limit=min(max_rows, LOG_PAGE), traffic_class=PRODUCTION
            )
        except ServiceCallError as exc:
            sources[service] = f"skipped: {exc.error_type}"
            continue
        rows = [r for r in page["records"] if r["model_version"] == version]
        sources[service] = f"ok: {len(rows)} rows"
        records.extend(rows)
    records.sort(key=lambda r: r["created_at"], reverse=True)
    return records[:max_rows], sources


async def _run_id(analytics: Analytics, model_name: str, version: str) -> str:
    """The training run of a version, through MLflow's REST API (fails fast when MLflow is down)."""
    try:
        answer = await analytics.sdk.mlflow.get_model_version(model_name, version)
    except ServiceCallError as exc:
        if exc.status_code == 404:
            raise ReferenceNotFoundError(model_name, version, "MLflow does not know this version") from exc
        raise ServiceUnavailableError(
            f"MLflow is not answering ({exc.error_type})", details={"service": "mlflow"}
        ) from exc
    run_id = answer.get("model_version", {}).get("run_id")
    if not run_id:
        raise ReferenceNotFoundError(model_name, version, "the version has no training run")
    return str(run_id)


def current_columns(records: list[dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    """The window's side of a check: each reference feature's value per prediction (None when absent, a
    missing value), except projection features, which only the sampled predictions have."""
    return {
        name: [record["features"][name] for record in records if name in record["features"]]
        if is_projection_feature(name)
        else [record["features"].get(name) for record in records]
        for name in names
    }


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def thin_features(current: dict[str, list[Any]], *, rows: int, min_values: int) -> dict[str, str]:
    """Features of the window with fewer than `min_values` values (missing ones aside): why each is not tested."""
    skipped: dict[str, str] = {}
    for name, values in current.items():
        count = sum(1 for value in values if _present(value))
        if count < min_values:
            sample = " (projection sample)" if is_projection_feature(name) else ""
            skipped[name] = (
                f"{count} of the window's {rows} predictions have a value{sample}; a feature needs at least "
                f"min_rows ({min_values}) to be tested"
            )
    return skipped


async def gather_window(
    analytics: Analytics, model_name: str, drift: DriftSettings, *, window_minutes: float | None = None
) -> dict[str, Any]:
    """Everything a live check compares: reference and current columns, the version, the window."""
    minutes = window_minutes or drift.window_minutes
    version = await served_version(analytics, model_name)
    profile = await analytics.references.get(
        analytics.ctx.settings.mlflow_uri, model_name, version, await _run_id(analytics, model_name, version)
    )
    reference, categorical = reference_columns(profile)
    end = datetime.now(UTC)
    start = end - timedelta(minutes=minutes)
    records, sources = await window_records(analytics, model_name, version, since=start, max_rows=drift.max_rows)
    if len(records) < drift.min_rows:
        raise NotEnoughTrafficError(model_name, len(records), drift.min_rows, minutes)
    current = current_columns(records, list(reference))
    skipped = thin_features(current, rows=len(records), min_values=drift.min_rows)
    return {
        "version": version,
        "reference": {name: values for name, values in reference.items() if name not in skipped},
        "current": {name: values for name, values in current.items() if name not in skipped},
        "categorical": [name for name in categorical if name not in skipped],
        "skipped": skipped,
        "window": (start, end),
        "sources": sources,
    }
