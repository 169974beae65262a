"""The monitor: live drift checks on a schedule and on demand, and what they set in motion.

A check stores its run, raises alerts (event + e-mail), and hands each alert to auto-retrain as a trigger; the
served version's performance on labelled feedback is checked too (the performance-drop trigger).
The schedule (`MLSEC_ANALYTICS_MONITOR_INTERVAL_SECONDS`) checks every monitored model, then dispatches the
retrain queue. One model failing to be checked (too little traffic, MLflow or a service down) never stops
the others; the reason is logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.client import ServiceCallError
from mlsec.core.background import Periodic
from mlsec.core.errors import MlsecError, ServiceUnavailableError
from mlsec.core.telemetry import annotate_span, background_span
from mlsec.services.analytics.models import DriftAlert, DriftRun
from mlsec.services.analytics.schemas.drift import (
    DriftAnalysis,
    DriftRunSummary,
    DriftStatus,
    FeatureDriftAnalysis,
    ModelDriftAnalysis,
    ModelDriftStatus,
)
from mlsec.services.analytics.service import configs, drift, live, performance, retrain
from mlsec.services.analytics.service.metrics import LabelSpace
from mlsec.services.analytics.state import Analytics

logger = logging.getLogger("mlsec.analytics.monitor")


async def check_model(
    analytics: Analytics,
    session: AsyncSession,
    model_name: str,
    *,
    window_minutes: float | None = None,
    source: str = "live",
) -> tuple[DriftRun, list[DriftAlert]]:
    """Check a model's live window now: store the run, raise and notify alerts, trigger retrains."""
    config = await configs.get(session, model_name=model_name)
    data = await live.gather_window(analytics, model_name, config.drift, window_minutes=window_minutes)
    report = await drift.run_detection(
        data["reference"],
        data["current"],
        categorical=data["categorical"],
        tests=config.drift.tests,
        config=drift.drift_config(config.drift, leave_out=data["skipped"]),
    )
    run = drift.new_run(
        report, source=source, model_name=model_name, model_version=data["version"], window=data["window"]
    )
    run.report = {**run.report, "sources": data["sources"], "skipped_features": data["skipped"]}
    session.add(run)
    await session.flush()
    annotate_span({"mlsec.check.id": run.id, "mlsec.model.name": model_name})
    analytics.last_check_at = run.created_at
    alerts = await drift.raise_alerts(session, analytics, run, min_severity=config.drift.alert_min_severity)
    analytics.ctx.publish("drift", "drift.checked", drift.event_payload(run))
    logger.info(
        "analytics.drift.checked",
        extra={"model_name": model_name, "drift": run.drift_detected, "severity": run.severity, "alerts": len(alerts)},
    )
    for alert in alerts:
        await retrain.create_request(
            session,
            analytics,
            model_name=model_name,
            trigger=alert.kind,
            severity=alert.severity,
            reason=alert.message,
            drift_run_id=run.id,
            alert_id=alert.id,
            production_rows=run.current_rows,
        )
    return run, alerts


async def check_performance(analytics: Analytics, session: AsyncSession, model_name: str) -> DriftAlert | None:
    """The performance-drop trigger: the served version's metric on labelled feedback over the auto-retrain
    window, below its threshold with enough samples, raises an alert (one open at a time per version) and asks
    for a retrain. None when there is too little feedback or the metric holds."""
    config = (await configs.get(session, model_name=model_name)).auto_retrain
    version = await live.served_version(analytics, model_name)
    annotate_span({"mlsec.model.name": model_name, "mlsec.model.version": version})
    end = datetime.now(UTC)
    start = end - timedelta(hours=config.performance_window_hours)
    window = await performance.get_window(session, start=start, end=end, model_name=model_name, version=version)
    group = window.get(model_name, {}).get(version)
    if group is None or len(group.true) < config.performance_min_samples:
        return None
    value = getattr(group.metrics(LabelSpace.of(group.true + group.predicted)), config.performance_metric)
    if value is None or value >= config.performance_threshold:
        return None
    if await drift.has_open_alert(session, model_name=model_name, model_version=version, kind="performance_drop"):
        return None
    metric, threshold = config.performance_metric, config.performance_threshold
    severity = "high" if value < threshold - 0.1 else "medium"
    message = (
        f"performance drop ({severity}) on {model_name} version {version}: {metric} {value:.3f} on "
        f"{len(group.true)} labelled predictions of the last {config.performance_window_hours:g} h, below {threshold}"
    )
    alert = await drift.raise_alert(
        session,
        analytics,
        model_name=model_name,
        model_version=version,
        kind="performance_drop",
        severity=severity,
        message=message,
        features=[metric],
        email_body=message,
    )
    annotate_span({"mlsec.alert.id": alert.id})
    await retrain.create_request(
        session, analytics, model_name=model_name, trigger="performance_drop", reason=message, alert_id=alert.id
    )
    return alert


async def get_scheduled_models(analytics: Analytics, *, strict: bool = False) -> list[str]:
    """The models the schedule checks: the configured ones, else every model the model API serves. When the
    model API does not answer: none, or with `strict` a ServiceUnavailableError."""
    if analytics.settings.monitor_models:
        return list(analytics.settings.monitor_models)
    try:
        served = await analytics.sdk.model_api.get_models()
    except ServiceCallError as exc:
        if strict:
            raise ServiceUnavailableError(
                f"the model API is not answering ({exc.error_type})", details={"service": "model-api"}
            ) from exc
        return []
    return sorted({str(model["name"]) for model in served.get("models", [])})


async def get_status(analytics: Analytics, session: AsyncSession) -> DriftStatus:
    """Per model seen (monitored or checked before): the last check and its open alerts."""
    latest = {run.model_name: run for run in await drift.get_latest_runs(session) if run.model_name}
    scheduled = set(await get_scheduled_models(analytics)) if analytics.settings.monitor_interval_seconds > 0 else set()
    open_counts = await drift.get_open_alert_counts(session)
    models = []
    for name in sorted(scheduled | set(latest)):
        config = await configs.get(session, model_name=name)
        run = latest.get(name)
        models.append(
            ModelDriftStatus(
                model_name=name,
                monitored=name in scheduled,
                window_minutes=config.drift.window_minutes,
                last_run=DriftRunSummary.model_validate(run) if run else None,
                open_alerts=open_counts.get(name, 0),
            )
        )
    return DriftStatus(
        monitor_interval_seconds=analytics.settings.monitor_interval_seconds,
        models=models,
        open_alerts=sum(open_counts.values()),
        last_check_at=analytics.last_check_at,
    )


def analysis(runs: list[DriftRun]) -> DriftAnalysis:
    """The latest run of each model, feature by feature."""
    models = []
    for run in runs:
        features = [
            FeatureDriftAnalysis(
                feature=f["feature"], drift_detected=f["drift_detected"], severity=f["severity"], tests=f["tests"]
            )
            for f in run.report.get("features", [])
        ]
        models.append(
            ModelDriftAnalysis(
                model_name=str(run.model_name),
                run=DriftRunSummary.model_validate(run),
                method=run.method,
                features=features,
            )
        )
    return DriftAnalysis(models=models)


async def run_once(analytics: Analytics, *, strict: bool = False) -> None:
    """One round of the schedule: check every monitored model's drift and performance, then dispatch retrains.

    With `strict` (the first round, a start-up task), a service or MLflow that does not answer fails the
    round, so that it is tried again once they do, instead of being skipped until the next interval."""
    for model_name in await get_scheduled_models(analytics, strict=strict):
        try:
            with background_span("analytics.drift.check"):
                async with analytics.ctx.db.session() as session:
                    await check_model(analytics, session, model_name, source="schedule")
        except MlsecError as exc:
            if strict and isinstance(exc, ServiceUnavailableError):
                raise
            logger.info("analytics.drift.skipped", extra={"model_name": model_name, "reason": exc.message})
        try:
            with background_span("analytics.performance.check"):
                async with analytics.ctx.db.session() as session:
                    await check_performance(analytics, session, model_name)
        except MlsecError as exc:
            logger.info("analytics.performance.skipped", extra={"model_name": model_name, "reason": exc.message})
    await retrain.dispatch(analytics)


async def run_schedule(analytics: Analytics) -> None:
    """Until cancelled (the service stops): a round every interval, after the first round (the start-up task
    "monitor") has succeeded. A failing round is logged and the next one runs on time (core.background)."""
    await analytics.ctx.startup.wait("monitor")
    interval = analytics.settings.monitor_interval_seconds
    schedule = Periodic("drift-monitor", functools.partial(run_once, analytics), interval=interval)
    schedule.start()
    try:
        await asyncio.Event().wait()  # never set: the schedule runs until this task is cancelled
    finally:
        await schedule.stop()
