"""Read-only views across every analytics table: the service's info, its summary, and trends over time.

Queries are portable aggregates (COUNT, MAX, GROUP BY, IN) that SQLite and PostgreSQL run alike; trends bucket by
time in Python (UTC hours or days, aligned to the calendar) so no dialect's date functions are needed. Feedback is
placed by the time basis of `performance` (predicted_at when sent, else created_at); the other tables by their
created_at.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVarTuple

import numpy as np
from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.limits import as_utc
from mlsec.services.analytics.models import DriftAlert, DriftRun, Feedback, PromotionRecord, RedTeamRun, RetrainRequest
from mlsec.services.analytics.schemas.summary import (
    AlertSummary,
    AnalyticsSummary,
    AnalyticsTrends,
    DriftRunBrief,
    DriftSummary,
    EndpointGroup,
    FeedbackSummary,
    PromotionBrief,
    PromotionSummary,
    RedTeamLatest,
    RedTeamSummary,
    RetrainSummary,
    TrendBucket,
    TrendBucketSize,
)
from mlsec.services.analytics.service.metrics import LabelSpace, rates
from mlsec.services.analytics.service.performance import TIME_BASIS, feedback_time, stream_rows

ALERT_SEVERITIES = ("low", "medium", "high")
RETRAIN_STATUSES = ("queued", "running", "succeeded", "failed", "skipped")
Columns = TypeVarTuple("Columns")
BUCKET_WIDTH = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
ENDPOINT_GROUPS = [
    EndpointGroup(
        name="analytics",
        paths=["/analytics/summary", "/analytics/trends", "/analytics/drift"],
        description="One view of the service, trends over time, the latest drift per model.",
    ),
    EndpointGroup(
        name="performance",
        paths=["/feedback", "/model-performance/{model}", "/performance/metrics", "/export/production-data/{model}"],
        description="Labelled feedback, metrics per version and time bucket, retraining exports.",
    ),
    EndpointGroup(
        name="drift",
        paths=[
            "/drift/detect",
            "/drift/detect/upload",
            "/drift/check/{model}",
            "/drift/status",
            "/drift/history",
            "/drift/history/{id}",
            "/drift/alerts",
            "/drift/alerts/{id}/acknowledge",
            "/drift/config/{model}",
        ],
        description="Drift checks on given data or live traffic, their history and alerts.",
    ),
    EndpointGroup(
        name="red-team",
        paths=[
            "/red-team/run",
            "/red-team/results",
            "/red-team/runs",
            "/red-team/runs/{id}",
            "/red-team/summary",
            "/red-team/trends",
            "/red-team/patterns",
        ],
        description="Adversarial runs against model versions and what evades.",
    ),
    EndpointGroup(
        name="auto-retrain",
        paths=["/auto-retrain/config", "/auto-retrain/trigger/{model}", "/auto-retrain/queue", "/auto-retrain/history"],
        description="When retrains start by themselves, and their queue and history.",
    ),
    EndpointGroup(
        name="promotion",
        paths=["/promotion/evaluate/{model}", "/promotion/ledger/{model}", "/promotion/champion/{model}"],
        description="Challenger against champion, and the append-only ledger of decisions.",
    ),
]


async def get_monitored_models(session: AsyncSession) -> list[str]:
    """The models this service knows of: with feedback or drift runs."""
    with_feedback = (await session.scalars(select(Feedback.model_name).distinct())).all()
    with_drift = (
        await session.scalars(select(DriftRun.model_name).where(DriftRun.model_name.is_not(None)).distinct())
    ).all()
    return sorted({*with_feedback, *(name for name in with_drift if name is not None)})


# --- summary ---------------------------------------------------------------------------------------------------


async def _counts(session: AsyncSession, column: Any, *where: Any) -> dict[str, int]:
    statement = select(column, func.count()).where(*where).group_by(column)
    return {str(value): int(count) for value, count in (await session.execute(statement)).all()}


async def _last(session: AsyncSession, statement: Select[Any]) -> Any:
    return (await session.scalars(statement.limit(1))).first()


async def _feedback_summary(session: AsyncSession) -> FeedbackSummary:
    statement = select(func.count(func.distinct(Feedback.model_name)), func.count(), func.max(Feedback.created_at))
    models, count, last = (await session.execute(statement)).one()
    return FeedbackSummary(models=models, count=count, last_at=as_utc(last) if last else None)


async def _drift_summary(session: AsyncSession) -> DriftSummary:
    drifted = func.coalesce(func.sum(case((DriftRun.drift_detected, 1), else_=0)), 0)
    runs, drifted_runs = (await session.execute(select(func.count(), drifted).select_from(DriftRun))).one()
    last = await _last(session, select(DriftRun).order_by(DriftRun.id.desc()))
    return DriftSummary(
        runs=int(runs), drifted=int(drifted_runs), last=DriftRunBrief.model_validate(last) if last else None
    )


async def _alert_summary(session: AsyncSession) -> AlertSummary:
    total = int(await session.scalar(select(func.count()).select_from(DriftAlert)) or 0)
    by_severity = dict.fromkeys(ALERT_SEVERITIES, 0) | await _counts(
        session, DriftAlert.severity, DriftAlert.status == "open"
    )
    return AlertSummary(total=total, open=sum(by_severity.values()), open_by_severity=by_severity)


async def _red_team_summary(session: AsyncSession) -> RedTeamSummary:
    runs = int(await session.scalar(select(func.count()).select_from(RedTeamRun)) or 0)
    newest = select(func.max(RedTeamRun.id)).group_by(RedTeamRun.model_name)
    rows = (
        await session.scalars(select(RedTeamRun).where(RedTeamRun.id.in_(newest)).order_by(RedTeamRun.model_name))
    ).all()
    latest = [
        RedTeamLatest(
            model_name=row.model_name,
            model_version=row.model_version,
            run_id=row.id,
            created_at=as_utc(row.created_at),
            attempts=row.attempts,
            detection_rate=row.detection_rate,
        )
        for row in rows
    ]
    return RedTeamSummary(runs=runs, latest=latest)


async def _retrain_summary(session: AsyncSession) -> RetrainSummary:
    by_status = dict.fromkeys(RETRAIN_STATUSES, 0) | await _counts(session, RetrainRequest.status)
    return RetrainSummary(requests=sum(by_status.values()), by_status=by_status)


async def _promotion_summary(session: AsyncSession) -> PromotionSummary:
    actions = await _counts(session, PromotionRecord.action)
    last = await _last(session, select(PromotionRecord).order_by(PromotionRecord.id.desc()))
    return PromotionSummary(
        promoted=actions.get("promoted", 0),
        rejected=actions.get("rejected", 0),
        observed=actions.get("observed", 0),
        last=PromotionBrief.model_validate(last) if last else None,
    )


async def get_summary(session: AsyncSession) -> AnalyticsSummary:
    """Counts and the latest state of everything the service stores; zeros and nulls on an empty database."""
    return AnalyticsSummary(
        generated_at=datetime.now(UTC),
        feedback=await _feedback_summary(session),
        drift=await _drift_summary(session),
        alerts=await _alert_summary(session),
        red_team=await _red_team_summary(session),
        retrain=await _retrain_summary(session),
        promotion=await _promotion_summary(session),
    )


# --- trends ----------------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What one time bucket counts."""

    confusion: dict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    drift_runs: int = 0
    drifted_runs: int = 0
    alerts: int = 0
    detection_rates: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class _Grid:
    """Calendar-aligned UTC buckets: the last `count` hours or days, the current one included."""

    start: datetime
    width: timedelta
    count: int

    @classmethod
    def of(cls, *, days: int, bucket: TrendBucketSize, now: datetime) -> _Grid:
        width = BUCKET_WIDTH[bucket]
        current = now.replace(minute=0, second=0, microsecond=0)
        if bucket == "day":
            current = current.replace(hour=0)
        count = days if bucket == "day" else days * 24
        return cls(start=current - width * (count - 1), width=width, count=count)

    @property
    def end(self) -> datetime:
        return self.start + self.width * self.count

    def index(self, at: datetime) -> int | None:
        offset = int((as_utc(at) - self.start) // self.width)
        return offset if 0 <= offset < self.count else None


def _model_quality(tallies: dict[str, Counter[tuple[str, str]]]) -> tuple[int, float | None, float | None]:
    """Feedback count, accuracy over all of it, and each model's F1 weighted by its count."""
    total, correct, weighted_f1 = 0, 0.0, 0.0
    for counts in tallies.values():
        space = LabelSpace.of(label for pair in counts for label in pair)
        index = {label: i for i, label in enumerate(space.labels)}
        matrix = np.zeros((len(space.labels), len(space.labels)), dtype=np.int64)
        for (true, predicted), n in counts.items():
            matrix[index[true], index[predicted]] += n
        positive = index[space.positive] if space.positive is not None else None
        accuracy, _, _, f1 = rates(matrix, positive)
        n = int(matrix.sum())
        total, correct, weighted_f1 = total + n, correct + accuracy * n, weighted_f1 + f1 * n
    if total == 0:
        return 0, None, None
    return total, correct / total, weighted_f1 / total


async def _tally_feedback(session: AsyncSession, grid: _Grid, tallies: list[_Tally], model_name: str | None) -> None:
    statement = select(feedback_time(), Feedback.model_name, Feedback.true_label, Feedback.prediction).where(
        feedback_time() >= grid.start, feedback_time() < grid.end
    )
    if model_name is not None:
        statement = statement.where(Feedback.model_name == model_name)
    async for at, name, true, predicted in stream_rows(session, statement):
        if (index := grid.index(at)) is not None:
            tallies[index].confusion[name][(true, predicted)] += 1


async def _tally_others(session: AsyncSession, grid: _Grid, tallies: list[_Tally], model_name: str | None) -> None:
    def scoped(statement: Select[*Columns], table: Any) -> Select[*Columns]:
        statement = statement.where(table.created_at >= grid.start, table.created_at < grid.end)
        return statement if model_name is None else statement.where(table.model_name == model_name)

    async for at, drifted in stream_rows(
        session, scoped(select(DriftRun.created_at, DriftRun.drift_detected), DriftRun)
    ):
        if (index := grid.index(at)) is not None:
            tallies[index].drift_runs += 1
            tallies[index].drifted_runs += int(bool(drifted))
    async for (at,) in stream_rows(session, scoped(select(DriftAlert.created_at), DriftAlert)):
        if (index := grid.index(at)) is not None:
            tallies[index].alerts += 1
    rates_statement = scoped(select(RedTeamRun.created_at, RedTeamRun.detection_rate), RedTeamRun)
    async for at, rate in stream_rows(session, rates_statement):
        if (index := grid.index(at)) is not None:
            tallies[index].detection_rates.append(rate)


def _bucket(grid: _Grid, index: int, tally: _Tally) -> TrendBucket:
    feedback, accuracy, f1 = _model_quality(tally.confusion)
    rates_seen: Sequence[float] = tally.detection_rates
    begins = grid.start + grid.width * index
    return TrendBucket(
        start=begins,
        end=begins + grid.width,
        feedback=feedback,
        accuracy=accuracy,
        f1=f1,
        drift_runs=tally.drift_runs,
        drifted_runs=tally.drifted_runs,
        alerts=tally.alerts,
        red_team_runs=len(rates_seen),
        detection_rate=sum(rates_seen) / len(rates_seen) if rates_seen else None,
    )


async def get_trends(
    session: AsyncSession,
    *,
    days: int,
    bucket: TrendBucketSize,
    model_name: str | None = None,
    now: datetime | None = None,
) -> AnalyticsTrends:
    """Per hour or day (UTC), oldest first: feedback and its quality, drift runs, alerts and red-team runs.
    Every bucket is listed, empty ones with zeros."""
    grid = _Grid.of(days=days, bucket=bucket, now=as_utc(now or datetime.now(UTC)))
    tallies = [_Tally() for _ in range(grid.count)]
    await _tally_feedback(session, grid, tallies, model_name)
    await _tally_others(session, grid, tallies, model_name)
    return AnalyticsTrends(
        model_name=model_name,
        days=days,
        bucket=bucket,
        start=grid.start,
        end=grid.end,
        time_basis=f"feedback: {TIME_BASIS}; drift runs, alerts and red-team runs: created_at",
        buckets=[_bucket(grid, index, tally) for index, tally in enumerate(tallies)],
    )
