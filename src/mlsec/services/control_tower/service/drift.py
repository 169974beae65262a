"""A model's metrics over time (`/model/{name}/drift`): each version's training-run metrics, and its production
performance from labelled feedback as the analytics service records it (through the SDK), oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mlsec.client import ServiceCallError
from mlsec.services.control_tower.errors import ModelNotFoundError
from mlsec.services.control_tower.schemas.models import MetricsPoint, VersionDrift
from mlsec.services.control_tower.service.snapshot import ModelRecord, Snapshot
from mlsec.services.control_tower.state import ControlTower

FEEDBACK_METRICS = {
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "f1_score",
    "roc_auc": "roc_auc",
}
MAX_FEEDBACK_DAYS = 90  # the analytics service's longest performance window


def training_points(snapshot: Snapshot, model: ModelRecord, since: datetime) -> dict[str, list[MetricsPoint]]:
    """Per version, the metrics of the run that produced it, dated when they were logged (inside the window)."""
    points: dict[str, list[MetricsPoint]] = {}
    for version in model.versions:
        run = snapshot.runs.get(version.run_id) if version.run_id else None
        if run is None or not run.metrics:
            continue
        date = run.metrics_at or run.end_time or version.creation_timestamp
        if date is None or date < since:
            continue
        metrics: dict[str, Any] = dict(run.metrics)
        if "f1" in metrics and "f1_score" not in metrics:
            metrics["f1_score"] = metrics["f1"]
        points[version.version] = [MetricsPoint(date=date, source="training_run", **metrics)]
    return points


def feedback_points(performance: dict[str, Any]) -> dict[str, list[MetricsPoint]]:
    """Per version, one point per time bucket that holds labelled production feedback."""
    points: dict[str, list[MetricsPoint]] = {}
    for version in performance.get("versions", []) or []:
        for bucket in version.get("series", []) or []:
            if not bucket.get("count"):
                continue
            metrics = {ours: bucket.get(theirs) for theirs, ours in FEEDBACK_METRICS.items()}
            point = MetricsPoint(date=bucket["start"], source="production_feedback", count=bucket["count"], **metrics)
            points.setdefault(str(version["model_version"]), []).append(point)
    return points


async def get_or_raise(tower: ControlTower, name: str, days: int) -> tuple[list[VersionDrift], list[str]]:
    """Every version with points in the last `days` (or an alias), and which sources could not be read."""
    snapshot = (await tower.current_views()).snapshot
    model = snapshot.models.get(name)
    if model is None:
        raise ModelNotFoundError(name)
    since = datetime.now(UTC) - timedelta(days=days)
    points = training_points(snapshot, model, since)
    unavailable: list[str] = []
    try:
        feedback_days = min(days, MAX_FEEDBACK_DAYS)
        performance = await tower.sdk.analytics.get_model_performance(
            name, window_hours=feedback_days * 24.0, buckets=feedback_days
        )
    except ServiceCallError as exc:
        if exc.status_code != 404:  # 404: no feedback for this model yet, nothing is missing
            unavailable.append("analytics")
    else:
        for version, more in feedback_points(performance).items():
            points.setdefault(version, []).extend(more)
    drift = [
        VersionDrift(
            version=v.version,
            stage=v.stage,
            metrics_over_time=sorted(points.get(v.version, []), key=lambda p: p.date),
        )
        for v in model.versions
        if v.version in points or v.aliases
    ]
    return drift, unavailable
