"""Auto-retrain: triggers become requests (cooldown, daily limit, priority), requests become training jobs.

A request is skipped, with the reason stored, when auto-retrain is off or the trigger is not enabled, when
the model is in its cooldown, has reached its daily limit, or already has a retrain queued or running. Queued
requests run one at a time, highest priority (lowest number) first: the model's labelled feedback (its
training part) is uploaded as the dataset `<model>-feedback`, which retraining adds to the stored config's
data; the job is followed to its end; the challenger it registers is evaluated for promotion.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.client import ServiceCallError
from mlsec.core.errors import MlsecError
from mlsec.services.analytics.models import RetrainRequest
from mlsec.services.analytics.schemas.configs import SEVERITY_ORDER, AutoRetrainSettings
from mlsec.services.analytics.service import configs, feedback_data, promotion
from mlsec.services.analytics.state import Analytics

logger = logging.getLogger("mlsec.analytics.retrain")
ACTIVE = ("queued", "running")
STARTED = ("running", "succeeded", "failed")
FINISHED_JOB = frozenset({"succeeded", "failed", "cancelled"})
FEEDBACK_EXPORT_ROWS = 50_000


def _skip_reason(
    *, trigger: str, severity: str | None, production_rows: int | None, config: AutoRetrainSettings
) -> str | None:
    if trigger == "manual":
        return None
    if not config.enabled:
        return "auto-retrain is off for this model"
    if trigger not in config.triggers:
        return f"trigger {trigger} is not enabled (enabled: {', '.join(config.triggers) or 'none'})"
    if severity is not None and SEVERITY_ORDER[severity] < SEVERITY_ORDER[config.min_severity]:
        return f"severity {severity} is below the trigger's minimum {config.min_severity}"
    if production_rows is not None and production_rows < config.min_production_rows:
        return (
            f"the drift window held {production_rows} production predictions; a retrain needs at least "
            f"{config.min_production_rows} (min_production_rows)"
        )
    return None


async def _limit_reason(session: AsyncSession, *, model_name: str, cooldown: float, daily_limit: int) -> str | None:
    now = datetime.now(UTC)
    active = await session.scalar(
        select(RetrainRequest.id).where(RetrainRequest.model_name == model_name, RetrainRequest.status.in_(ACTIVE))
    )
    if active is not None:
        return f"retrain request {active} is already queued or running"
    last = await session.scalar(
        select(func.max(RetrainRequest.started_at)).where(
            RetrainRequest.model_name == model_name, RetrainRequest.status.in_(STARTED)
        )
    )
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if now - last < timedelta(minutes=cooldown):
            until = last + timedelta(minutes=cooldown)
            return (
                f"cooldown: the last retrain started at {last.isoformat()}; the next may start at {until.isoformat()}"
            )
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = await session.scalar(
        select(func.count()).where(
            RetrainRequest.model_name == model_name,
            RetrainRequest.status.in_(STARTED),
            RetrainRequest.started_at >= midnight,
        )
    )
    if (today or 0) >= daily_limit:
        return f"daily limit: {today} retrain(s) started today (UTC), the limit is {daily_limit}"
    return None


async def create_request(
    session: AsyncSession,
    analytics: Analytics,
    *,
    model_name: str,
    trigger: str,
    reason: str,
    severity: str | None = None,
    drift_run_id: int | None = None,
    alert_id: int | None = None,
    production_rows: int | None = None,
    force: bool = False,
) -> RetrainRequest:
    """Record a retrain request: queued, or skipped with the reason. `force` bypasses cooldown and limits;
    `production_rows` is the size of the drift window that raised the trigger (None: not a drift trigger)."""
    config = (await configs.get(session, model_name=model_name)).auto_retrain
    skipped = _skip_reason(trigger=trigger, severity=severity, production_rows=production_rows, config=config)
    if skipped is None and not force:
        skipped = await _limit_reason(
            session, model_name=model_name, cooldown=config.cooldown_minutes, daily_limit=config.daily_limit
        )
    row = RetrainRequest(
        created_at=datetime.now(UTC),
        model_name=model_name,
        trigger=trigger,
        priority=config.priorities.get(trigger, 9),  # type: ignore[call-overload]
        status="skipped" if skipped else "queued",
        reason=skipped or reason,
        drift_run_id=drift_run_id,
        alert_id=alert_id,
        detail={"requested_reason": reason, "forced": force}
        | ({"production_rows": production_rows} if production_rows is not None else {}),
    )
    session.add(row)
    await session.flush()
    analytics.ctx.publish(
        "training", f"retrain.{row.status}", {"request_id": row.id, "model_name": model_name, "trigger": trigger}
    )
    logger.info("analytics.retrain.%s", row.status, extra={"model_name": model_name, "trigger": trigger})
    return row


async def get_queue(session: AsyncSession) -> list[RetrainRequest]:
    """Running first, then queued in the order they will run."""
    rows = await session.scalars(select(RetrainRequest).where(RetrainRequest.status.in_(ACTIVE)))
    return sorted(rows, key=lambda r: (r.status != "running", r.priority, r.created_at, r.id))


async def get_history(
    session: AsyncSession, *, model_name: str | None, limit: int, offset: int
) -> tuple[list[RetrainRequest], int]:
    query = select(RetrainRequest)
    if model_name is not None:
        query = query.where(RetrainRequest.model_name == model_name)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(RetrainRequest.id.desc()).limit(limit).offset(offset))
    return list(rows), total


async def recover(analytics: Analytics) -> None:
    """At start-up: a request left running by a stop or a crash is marked failed (its job may have finished
    unobserved: its id is in the request), so the queue can move on."""
    async with analytics.ctx.db.session() as session:
        for row in await session.scalars(select(RetrainRequest).where(RetrainRequest.status == "running")):
            row.status = "failed"
            row.finished_at = datetime.now(UTC)
            row.detail = {**row.detail, "error": "the analytics service stopped while this retrain ran"}


async def resume(analytics: Analytics) -> None:
    """At start-up: work on requests a previous run left queued, once the training service answers (raises
    ServiceCallError until it does: the start-up task tries again), so that none fails for starting first."""
    async with analytics.ctx.db.session() as session:
        if not any(row.status == "queued" for row in await get_queue(session)):
            return
    await analytics.sdk.training.get_health_live()
    await dispatch(analytics)


async def dispatch(analytics: Analytics) -> None:
    """Make sure the queue is being worked on (one worker; it stops when the queue is empty)."""
    if analytics.retrain_worker is None or analytics.retrain_worker.done():
        analytics.retrain_worker = analytics.spawn(_drain(analytics), "retrain-worker")


async def _drain(analytics: Analytics) -> None:
    while (claimed := await _claim_next(analytics)) is not None:
        request_id, model_name = claimed
        try:
            status, detail = await _run(analytics, request_id, model_name)
        except asyncio.CancelledError:
            await _finish(analytics, request_id, "failed", {"error": "the analytics service stopped"})
            raise
        except Exception as exc:  # the request fails, the queue goes on
            logger.error("analytics.retrain.crashed", extra={"request_id": request_id, "error": type(exc).__name__})
            status, detail = "failed", {"error": f"{type(exc).__name__}"}
        await _finish(analytics, request_id, status, detail)


async def _claim_next(analytics: Analytics) -> tuple[int, str] | None:
    async with analytics.ctx.db.session() as session:
        queued = [r for r in await get_queue(session) if r.status == "queued"]
        if not queued:
            return None
        chosen = queued[0]
        chosen.status = "running"
        chosen.started_at = datetime.now(UTC)
        return chosen.id, chosen.model_name


async def _finish(analytics: Analytics, request_id: int, status: str, detail: dict[str, Any]) -> None:
    async with analytics.ctx.db.session() as session:
        row = await session.get(RetrainRequest, request_id)
        if row is None:
            return
        row.status = status
        row.finished_at = datetime.now(UTC)
        row.detail = {**row.detail, **detail}
        model_name = row.model_name
    analytics.ctx.publish(
        "training", f"retrain.{status}", {"request_id": request_id, "model_name": model_name, **detail}
    )


async def _upload_feedback(analytics: Analytics, model_name: str) -> dict[str, Any]:
    """The training part of the model's labelled feedback, as the dataset retraining adds."""
    async with analytics.ctx.db.session() as session:
        texts, labels = await feedback_data.get_labelled_texts(
            session, model_name=model_name, holdout=False, limit=FEEDBACK_EXPORT_ROWS
        )
    if not texts:
        return {"feedback_rows": 0}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{model_name}-feedback.csv"
        path.write_bytes(feedback_data.as_csv(texts, labels))
        uploaded = await analytics.sdk.training.upload_data(path, name=f"{model_name}-feedback")
    dataset = uploaded.get("dataset", {})
    return {"feedback_rows": len(texts), "feedback_dataset_version": dataset.get("version")}


async def _set_job(analytics: Analytics, request_id: int, job_id: str) -> None:
    async with analytics.ctx.db.session() as session:
        row = await session.get(RetrainRequest, request_id)
        if row is not None:
            row.job_id = job_id


async def _follow(analytics: Analytics, job_id: str) -> dict[str, Any]:
    """Poll the training job until it ends (or the timeout, when it is cancelled)."""
    deadline = asyncio.get_running_loop().time() + analytics.settings.retrain_timeout_seconds
    while True:
        job = await analytics.sdk.training.get_training_job(job_id)
        if job["status"] in FINISHED_JOB:
            return job
        if asyncio.get_running_loop().time() > deadline:
            await analytics.sdk.training.cancel_training_job(job_id)
            return {**job, "status": "failed", "error": "timed out (MLSEC_ANALYTICS_RETRAIN_TIMEOUT_SECONDS)"}
        await asyncio.sleep(analytics.settings.retrain_poll_seconds)


async def _run(analytics: Analytics, request_id: int, model_name: str) -> tuple[str, dict[str, Any]]:
    try:
        detail = await _upload_feedback(analytics, model_name)
        job = await analytics.sdk.training.retrain_model(model_name, reason=f"analytics retrain request {request_id}")
        await _set_job(analytics, request_id, str(job["id"]))
        job = await _follow(analytics, str(job["id"]))
    except ServiceCallError as exc:
        return "failed", {"error": f"{exc.service}: {exc}"}
    detail |= {"job_id": job["id"], "job_status": job["status"], "challenger_version": job.get("model_version")}
    if job["status"] != "succeeded":
        return "failed", detail | {"error": job.get("error") or job.get("failure_reason") or job["status"]}
    async with analytics.ctx.db.session() as session:
        auto_promote = (await configs.get(session, model_name=model_name)).auto_retrain.auto_promote
        row = await session.get(RetrainRequest, request_id)
        drift_run_id = row.drift_run_id if row else None
    if auto_promote and job.get("model_version"):
        try:
            async with analytics.ctx.db.session() as session:
                record = await promotion.evaluate(
                    analytics,
                    session,
                    model_name=model_name,
                    challenger_version=str(job["model_version"]),
                    promote=True,
                    actor="auto-retrain",
                    retrain_request_id=request_id,
                    drift_run_id=drift_run_id,
                )
                detail |= {"promotion_record_id": record.id, "promotion": record.action, "summary": record.summary}
        except MlsecError as exc:  # e.g. too little held-out feedback: the retrain itself succeeded
            detail |= {"promotion": "not evaluated", "summary": exc.message}
    return "succeeded", detail
