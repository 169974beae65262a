"""SLAs: objectives per model version, compliance over a window, and the breaches found after each collect round.

An SLA names a model and either one version or none (every version that has no SLA of its own). Its objectives
are judged on a window ending now (its `window_minutes`) or on a period asked for:

- `latency_p99_ms`: the 99th percentile of the version's production predictions, from the merged latency
  sketches of its buckets (1 % relative accuracy); met when at most the threshold.
- `availability`: 1 - sum(down_s) / sum(observed_s) over the serving services that answered the version in the
  window (pooled, so a service observed longer weighs more); met when at least the threshold.
- `error_rate`: sum(prediction_errors) / sum(prediction_requests) of those services; met when at most the
  threshold. The services' counters are not per version, so a service serving two versions gives both its rate.

An objective without data (no traffic, no probe) neither meets nor breaks. A breach is stored once per start:
while later rounds find the same objective broken on windows that touch or overlap the stored breach's window,
that breach's `window_end` moves on and its value keeps the worst; a window that does not reach the previous
breach's window starts a new breach, which is counted in `event_rollup` (kind `sla_breach`) and published on
the `business` topic as `sla.breached`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import NotFoundError
from mlsec.services.business_metrics.models import Sla, SlaBreach
from mlsec.services.business_metrics.schemas.slas import (
    Measured,
    ModelCompliance,
    ObjectiveResult,
    SlaBody,
    SlaCompliance,
)
from mlsec.services.business_metrics.service import rollups
from mlsec.services.business_metrics.service.period import Period, resolution_for
from mlsec.services.business_metrics.service.sketch import LatencySketch
from mlsec.services.business_metrics.state import BusinessMetrics

logger = logging.getLogger("mlsec.business_metrics.slas")
EVENT_KIND = "sla_breach"
# objective -> (SLA column, True when a higher value is better)
OBJECTIVES: dict[str, tuple[str, bool]] = {
    "latency_p99_ms": ("latency_p99_ms", False),
    "availability": ("availability_min", True),
    "error_rate": ("error_rate_max", False),
}


async def get_all(session: AsyncSession, *, model_name: str | None = None) -> list[Sla]:
    query = select(Sla).order_by(Sla.model_name, Sla.model_version.is_not(None), Sla.model_version)
    if model_name is not None:
        query = query.where(Sla.model_name == model_name)
    return list(await session.scalars(query))


async def get(session: AsyncSession, *, model_name: str, model_version: str | None) -> Sla | None:
    version = Sla.model_version.is_(None) if model_version is None else Sla.model_version == model_version
    return await session.scalar(select(Sla).where(Sla.model_name == model_name, version))


async def update(session: AsyncSession, *, model_name: str, body: SlaBody) -> tuple[Sla, bool]:
    """Set the SLA of a model (version), creating it when there is none; (the SLA, whether it was created)."""
    sla = await get(session, model_name=model_name, model_version=body.model_version)
    created = sla is None
    now = datetime.now(UTC)
    if sla is None:
        sla = Sla(model_name=model_name, model_version=body.model_version, created_at=now)
        session.add(sla)
    for field in ("latency_p99_ms", "availability_min", "error_rate_max", "window_minutes"):
        setattr(sla, field, getattr(body, field))
    sla.updated_at = now
    await session.flush()
    return sla, created


async def delete(session: AsyncSession, *, model_name: str, model_version: str | None) -> None:
    """Delete the SLA (its breaches stay, as history); 404 when there is none."""
    sla = await get(session, model_name=model_name, model_version=model_version)
    if sla is None:
        raise _no_sla(model_name, model_version)
    await session.delete(sla)
    await session.flush()


def _no_sla(model_name: str, model_version: str | None) -> NotFoundError:
    which = "every version" if model_version is None else f"version {model_version}"
    return NotFoundError(
        f"model {model_name!r} has no SLA for {which}",
        details={"model_name": model_name, "model_version": model_version},
    )


async def measure(session: AsyncSession, period: Period, *, model_name: str, model_version: str) -> Measured:
    """What the version did over the period: its production predictions and its serving services' health."""
    resolution = resolution_for(period)
    buckets = await rollups.get_predictions(
        session, period, resolution, model_name=model_name, model_version=model_version
    )
    served = [b for b in buckets if b.predictions > 0]
    names = sorted({b.service for b in served})
    services = [b for b in await rollups.get_services(session, period, resolution) if b.service in names]
    observed = sum(b.observed_s for b in services)
    requests = sum(b.prediction_requests for b in services)
    return Measured(
        predictions=sum(b.predictions for b in served),
        latency_p99_ms=LatencySketch.merged(b.sketch for b in served).quantile(0.99) if served else None,
        availability=1.0 - sum(b.down_s for b in services) / observed if observed > 0 else None,
        error_rate=sum(b.prediction_errors for b in services) / requests if requests > 0 else None,
        services=names,
    )


def judge(sla: Sla, measured: Measured) -> tuple[bool | None, list[ObjectiveResult]]:
    """Each objective of the SLA against the measured figures; compliant as SlaCompliance defines it."""
    results = []
    for objective, (column, higher_is_better) in OBJECTIVES.items():
        threshold = getattr(sla, column)
        if threshold is None:
            continue
        value = getattr(measured, objective)
        met = None if value is None else (value >= threshold if higher_is_better else value <= threshold)
        results.append(ObjectiveResult(objective=objective, value=value, threshold=threshold, met=met))
    verdicts = [r.met for r in results if r.met is not None]
    return (None if not verdicts else all(verdicts)), results


def _window(sla: Sla | None, period: Period | None, now: datetime) -> Period:
    if period is not None:
        return period
    minutes = sla.window_minutes if sla is not None else 60
    return Period(now - timedelta(minutes=minutes), now)


async def _versions_served(session: AsyncSession, period: Period, model_name: str) -> set[str]:
    buckets = await rollups.get_predictions(session, period, resolution_for(period), model_name=model_name)
    return {b.model_version for b in buckets if b.predictions > 0}


async def _breach_count(session: AsyncSession, period: Period, model_name: str, model_version: str) -> int:
    query = select(func.count(SlaBreach.id)).where(
        SlaBreach.model_name == model_name,
        SlaBreach.model_version == model_version,
        SlaBreach.detected_at >= period.start,
        SlaBreach.detected_at < period.end,
    )
    return int(await session.scalar(query) or 0)


async def version_compliance(
    session: AsyncSession, sla: Sla | None, window: Period, *, model_name: str, model_version: str
) -> SlaCompliance:
    measured = await measure(session, window, model_name=model_name, model_version=model_version)
    compliant, objectives = judge(sla, measured) if sla is not None else (None, [])
    return SlaCompliance(
        model_name=model_name,
        model_version=model_version,
        sla_id=None if sla is None else sla.id,
        window_start=window.start,
        window_end=window.end,
        compliant=compliant,
        objectives=objectives,
        measured=measured,
        breaches=await _breach_count(session, window, model_name, model_version),
    )


async def _model_rows(
    session: AsyncSession, model_slas: list[Sla], period: Period | None, now: datetime
) -> list[SlaCompliance]:
    """A row per version an SLA applies to: the versioned SLAs' versions, and for the model-wide SLA every other
    version that served production traffic in its window."""
    own = {s.model_version: s for s in model_slas if s.model_version is not None}
    rows = [
        await version_compliance(session, s, _window(s, period, now), model_name=s.model_name, model_version=v)
        for v, s in sorted(own.items())
    ]
    general = next((s for s in model_slas if s.model_version is None), None)
    if general is not None:
        window = _window(general, period, now)
        for version in sorted(await _versions_served(session, window, general.model_name) - set(own)):
            rows.append(
                await version_compliance(session, general, window, model_name=general.model_name, model_version=version)
            )
    return rows


def _overall(rows: list[SlaCompliance]) -> bool | None:
    verdicts = [r.compliant for r in rows if r.compliant is not None]
    return None if not verdicts else all(verdicts)


async def get_compliance(
    session: AsyncSession,
    *,
    model_name: str,
    model_version: str | None = None,
    period: Period | None = None,
    now: datetime | None = None,
) -> ModelCompliance:
    """The compliance of a model's versions (or of one version, even one no SLA applies to: its figures are
    what a promotion judges a challenger on); each SLA's own window ending now unless a period is given.
    404 when the model has no SLA."""
    moment = now or datetime.now(UTC)
    model_slas = await get_all(session, model_name=model_name)
    if not model_slas:
        raise NotFoundError(f"model {model_name!r} has no SLA", details={"model_name": model_name})
    if model_version is None:
        rows = await _model_rows(session, model_slas, period, moment)
    else:
        sla = next((s for s in model_slas if s.model_version == model_version), None)
        sla = sla or next((s for s in model_slas if s.model_version is None), None)
        window = _window(sla, period, moment)
        rows = [await version_compliance(session, sla, window, model_name=model_name, model_version=model_version)]
    return ModelCompliance(model_name=model_name, compliant=_overall(rows), versions=rows)


async def get_compliance_all(
    session: AsyncSession, period: Period | None, *, now: datetime | None = None
) -> list[SlaCompliance]:
    """Every model version an SLA applies to, over the period (None: each SLA's own window ending now)."""
    moment = now or datetime.now(UTC)
    by_model: dict[str, list[Sla]] = {}
    for sla in await get_all(session):
        by_model.setdefault(sla.model_name, []).append(sla)
    rows: list[SlaCompliance] = []
    for model_slas in by_model.values():
        rows += await _model_rows(session, model_slas, period, moment)
    return rows


async def get_breaches(session: AsyncSession, *, model_name: str | None, limit: int) -> tuple[list[SlaBreach], int]:
    """Breaches newest first, with how many there are in all."""
    query = select(SlaBreach)
    if model_name is not None:
        query = query.where(SlaBreach.model_name == model_name)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(SlaBreach.detected_at.desc(), SlaBreach.id.desc()).limit(limit))
    return list(rows), int(total)


async def _last_breach(session: AsyncSession, row: SlaCompliance, objective: str) -> SlaBreach | None:
    return await session.scalar(
        select(SlaBreach)
        .where(
            SlaBreach.sla_id == row.sla_id,
            SlaBreach.model_version == row.model_version,
            SlaBreach.objective == objective,
        )
        .order_by(SlaBreach.window_end.desc(), SlaBreach.id.desc())
        .limit(1)
    )


def _worse(objective: str, old: float, new: float) -> float:
    return min(old, new) if OBJECTIVES[objective][1] else max(old, new)


async def record_breaches(session: AsyncSession, now: datetime) -> list[SlaBreach]:
    """Judge every SLA on its window ending now; extend the breaches that go on, store the ones that start
    (counted in event_rollup). Returns the breaches that started."""
    started: list[SlaBreach] = []
    for row in await get_compliance_all(session, None, now=now):
        for result in row.objectives:
            if result.met is not False or result.value is None or row.sla_id is None:
                continue
            last = await _last_breach(session, row, result.objective)
            if last is not None and last.window_end >= row.window_start:
                last.window_end = row.window_end
                last.value = _worse(result.objective, last.value, result.value)
                continue
            breach = SlaBreach(
                sla_id=row.sla_id,
                model_name=row.model_name,
                model_version=row.model_version,
                objective=result.objective,
                value=result.value,
                threshold=result.threshold,
                window_start=row.window_start,
                window_end=row.window_end,
                detected_at=now,
            )
            session.add(breach)
            await rollups.add_event(session, now, EVENT_KIND, row.model_name)
            started.append(breach)
    await session.flush()
    return started


def breach_payload(breach: SlaBreach) -> dict[str, object]:
    return {
        "breach_id": breach.id,
        "sla_id": breach.sla_id,
        "model_name": breach.model_name,
        "model_version": breach.model_version,
        "objective": breach.objective,
        "value": breach.value,
        "threshold": breach.threshold,
        "window_start": breach.window_start.isoformat(),
        "window_end": breach.window_end.isoformat(),
        "detected_at": breach.detected_at.isoformat(),
    }


async def check_after_collect(state: BusinessMetrics, now: datetime) -> None:
    """The hook run after each collect round: store the breaches that started, then publish each one once
    (after the commit, so a published breach is always one that can be read back)."""
    async with state.ctx.db.session() as session:
        started = await record_breaches(session, now)
        payloads = [breach_payload(b) for b in started]
    for payload in payloads:
        state.ctx.publish("business", "sla.breached", payload)
        logger.warning("business_metrics.sla.breached", extra=payload)
