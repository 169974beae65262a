"""Drift checks: run the statistics of `mlsec.ml.drift`, store each run, raise alerts and notify.

The statistics run in a worker thread (NumPy releases the GIL for most of it), so a large check never
blocks the event loop. An ad-hoc check's verdict is the detector's; a stored run keeps the whole report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import InvalidInputError
from mlsec.core.telemetry import current_trace_id
from mlsec.ml.drift import DriftConfig, DriftReport, FeatureOverride, detect_drift
from mlsec.services.analytics.errors import AlertNotFoundError, DriftRunNotFoundError
from mlsec.services.analytics.models import DriftAlert, DriftRun
from mlsec.services.analytics.schemas.configs import SEVERITY_ORDER, DriftSettings
from mlsec.services.analytics.schemas.drift import DriftOptions
from mlsec.services.analytics.state import Analytics

SCORE_FEATURE = "score"
"""The model's own output among the live features: when it drifts, the model's behaviour moved (model drift)."""


def drift_config(options: DriftOptions | DriftSettings, *, leave_out: Collection[str] = ()) -> DriftConfig:
    """The detector's config from a request's options or a model's stored drift settings; `leave_out` names
    features this check does not test (too few values), whose overrides are then dropped, not an error."""
    try:
        return DriftConfig(
            alpha=options.alpha,
            correction=options.correction,
            drift_share=options.drift_share,
            thresholds=options.thresholds.as_dict(),
            feature_overrides={
                name: FeatureOverride(tests=o.tests, alpha=o.alpha, thresholds=o.thresholds.as_dict())
                for name, o in options.features.items()
                if name not in leave_out
            },
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc


async def run_detection(
    reference: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    categorical: Sequence[str],
    tests: Sequence[str] | None,
    config: DriftConfig,
) -> DriftReport:
    """The detector in a worker thread; its ValueErrors (bad data, unknown features) become 422s."""
    try:
        return await anyio.to_thread.run_sync(
            lambda: detect_drift(reference, current, categorical=categorical, tests=tests, config=config)
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc


def _rows(report: DriftReport, side: str) -> int:
    counts = [getattr(f, f"{side}_rows") + getattr(f, f"{side}_missing") for f in report.features]
    return max(counts, default=0)


def new_run(
    report: DriftReport,
    *,
    source: str,
    model_name: str | None,
    model_version: str | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> DriftRun:
    """A DriftRun row for a report (not yet added to a session)."""
    drifted = [f.feature for f in report.features if f.drift_detected]
    score = next((f for f in report.features if f.feature == SCORE_FEATURE), None)
    return DriftRun(
        created_at=datetime.now(UTC),
        source=source,
        model_name=model_name,
        model_version=model_version,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        reference_rows=_rows(report, "reference"),
        current_rows=_rows(report, "current"),
        drift_detected=report.drift_detected,
        model_drift=bool(score is not None and score.drift_detected),
        severity=report.severity,
        drifted_features=drifted,
        method=report.method,
        report=report.to_dict(),
    )


def event_payload(run: DriftRun) -> dict[str, Any]:
    """What a drift run tells the live dashboard (no data, only the verdict)."""
    return {
        "drift_run_id": run.id,
        "model_name": run.model_name,
        "model_version": run.model_version,
        "drift_detected": run.drift_detected,
        "model_drift": run.model_drift,
        "severity": run.severity,
        "drifted_features": list(run.drifted_features),
    }


async def check_data(
    session: AsyncSession, analytics: Analytics, reference: Any, current: Any, options: DriftOptions, *, source: str
) -> DriftRun:
    """An ad-hoc check of given data; stored (and announced) unless `options.store` is false. No alerts."""
    report = await run_detection(
        reference, current, categorical=options.categorical, tests=options.tests, config=drift_config(options)
    )
    run = new_run(report, source=source, model_name=options.model_name)
    if options.store:
        session.add(run)
        await session.flush()
        analytics.ctx.publish("drift", "drift.checked", event_payload(run))
    return run


async def raise_alert(
    session: AsyncSession,
    analytics: Analytics,
    *,
    model_name: str | None,
    model_version: str | None,
    kind: str,
    severity: str,
    message: str,
    features: list[str],
    email_body: str,
    drift_run_id: int | None = None,
) -> DriftAlert:
    """Store an alert, then publish it on the `drift` topic and e-mail it; the outcomes are kept on it."""
    alert = DriftAlert(
        created_at=datetime.now(UTC),
        model_name=model_name,
        model_version=model_version,
        kind=kind,
        severity=severity,
        message=message,
        drift_run_id=drift_run_id,
        features=features,
        status="open",
        notifications={},
        trace_id=current_trace_id(),
    )
    session.add(alert)
    await session.flush()
    payload: dict[str, Any] = {"alert_id": alert.id, "drift_run_id": drift_run_id, "model_name": model_name}
    payload |= {"kind": kind, "severity": severity, "features": features, "trace_id": alert.trace_id}
    alert.notifications = await analytics.notifier.alert(
        "drift", "drift.alert", payload, subject=f"[mlsec] {message}", body=email_body
    )
    await session.flush()
    return alert


async def has_open_alert(session: AsyncSession, *, model_name: str, model_version: str, kind: str) -> bool:
    found = await session.scalar(
        select(DriftAlert.id).where(
            DriftAlert.model_name == model_name,
            DriftAlert.model_version == model_version,
            DriftAlert.kind == kind,
            DriftAlert.status == "open",
        )
    )
    return found is not None


async def raise_alerts(
    session: AsyncSession, analytics: Analytics, run: DriftRun, *, min_severity: str
) -> list[DriftAlert]:
    """Alerts for a stored run that drifted at or above `min_severity`: data drift and/or model drift."""
    if SEVERITY_ORDER[run.severity] < SEVERITY_ORDER[min_severity] or SEVERITY_ORDER[run.severity] == 0:
        return []
    kinds = [kind for kind, on in (("data_drift", run.drift_detected), ("model_drift", run.model_drift)) if on]
    alerts = []
    for kind in kinds:
        features = [SCORE_FEATURE] if kind == "model_drift" else list(run.drifted_features)
        what = "the model's score distribution" if kind == "model_drift" else f"{len(features)} feature(s)"
        message = f"{kind.replace('_', ' ')} ({run.severity}) on {run.model_name or 'ad-hoc data'}: {what} drifted"
        alert = await raise_alert(
            session,
            analytics,
            model_name=run.model_name,
            model_version=run.model_version,
            kind=kind,
            severity=run.severity,
            message=message,
            features=features,
            drift_run_id=run.id,
            email_body=_email_body(run, message),
        )
        alerts.append(alert)
    await session.flush()
    return alerts


def _email_body(run: DriftRun, message: str) -> str:
    lines = [message, "", f"Model: {run.model_name} version {run.model_version}", f"Drift run: {run.id}"]
    if run.window_start and run.window_end:
        lines.append(f"Window: {run.window_start.isoformat()} to {run.window_end.isoformat()}")
    lines += [f"Method: {run.method}", "", "Drifted features:"]
    for feature in run.report.get("features", []):
        if feature.get("drift_detected"):
            tests = ", ".join(
                f"{t['test']}={t['statistic']:.4g}"
                + (f" (p={t['p_value_adjusted']:.2g})" if t.get("p_value_adjusted") is not None else "")
                for t in feature.get("tests", [])
            )
            lines.append(f"- {feature['feature']}: {feature['severity']}: {tests}")
    return "\n".join(lines)


async def get_run_or_raise(session: AsyncSession, *, run_id: int) -> DriftRun:
    run = await session.get(DriftRun, run_id)
    if run is None:
        raise DriftRunNotFoundError(run_id)
    return run


async def get_all_runs(
    session: AsyncSession, *, model_name: str | None, drifted: bool | None, limit: int, offset: int
) -> tuple[list[DriftRun], int]:
    """Stored runs, newest first, and how many match in all."""
    query = select(DriftRun)
    if model_name is not None:
        query = query.where(DriftRun.model_name == model_name)
    if drifted is not None:
        query = query.where(DriftRun.drift_detected.is_(drifted))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(DriftRun.id.desc()).limit(limit).offset(offset))
    return list(rows), total


async def get_latest_runs(session: AsyncSession, *, model_name: str | None = None) -> list[DriftRun]:
    """The newest run of each model (or of one model)."""
    newest = select(func.max(DriftRun.id)).where(DriftRun.model_name.is_not(None)).group_by(DriftRun.model_name)
    query = select(DriftRun).where(DriftRun.id.in_(newest))
    if model_name is not None:
        query = query.where(DriftRun.model_name == model_name)
    return list(await session.scalars(query.order_by(DriftRun.model_name)))


async def get_all_alerts(
    session: AsyncSession,
    *,
    status: str | None,
    model_name: str | None,
    severity: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DriftAlert], int, int]:
    """Alerts, newest first; how many match; how many are open in all."""
    query = select(DriftAlert)
    if status is not None:
        query = query.where(DriftAlert.status == status)
    if model_name is not None:
        query = query.where(DriftAlert.model_name == model_name)
    if severity is not None:
        query = query.where(DriftAlert.severity == severity)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    open_total = await session.scalar(select(func.count()).where(DriftAlert.status == "open")) or 0
    rows = await session.scalars(query.order_by(DriftAlert.id.desc()).limit(limit).offset(offset))
    return list(rows), total, open_total


async def get_open_alert_counts(session: AsyncSession) -> dict[str | None, int]:
    rows = await session.execute(
        select(DriftAlert.model_name, func.count()).where(DriftAlert.status == "open").group_by(DriftAlert.model_name)
    )
    return {name: int(count) for name, count in rows.all()}


async def acknowledge(session: AsyncSession, *, alert_id: int, by: str, note: str | None) -> DriftAlert:
    """Mark an alert acknowledged (again: the first acknowledgement is kept)."""
    alert = await session.get(DriftAlert, alert_id)
    if alert is None:
        raise AlertNotFoundError(alert_id)
    if alert.status != "acknowledged":
        alert.status = "acknowledged"
        alert.acknowledged_at = datetime.now(UTC)
        alert.acknowledged_by = by
        alert.note = note
        await session.flush()
    return alert
