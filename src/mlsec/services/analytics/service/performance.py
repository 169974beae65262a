"""Labelled feedback: stored as sent, then measured per model, version and time bucket.

Time basis: a feedback row happened at its `predicted_at` when the client sent one, else at its `created_at`
(when it was stored). Windows and buckets use that time, so feedback labelled days later still counts where the
prediction was made.

The metrics themselves (one confusion matrix per group, sklearn's definitions) are in `metrics`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVarTuple

import numpy as np
from sqlalchemy import ColumnElement, Row, Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.app import ServiceContext
from mlsec.core.limits import as_utc
from mlsec.core.traffic import PRODUCTION
from mlsec.services.analytics.errors import NoFeedbackError
from mlsec.services.analytics.models import Feedback
from mlsec.services.analytics.schemas.performance import (
    FeedbackItem,
    FeedbackRecorded,
    ModelMetrics,
    ModelPerformance,
    ModelTouched,
    PerformanceMetrics,
    VersionMetrics,
    VersionPerformance,
)
from mlsec.services.analytics.service.feedback_data import is_holdout
from mlsec.services.analytics.service.metrics import Group, LabelSpace

TIME_BASIS = "predicted_at when the feedback carries it, else created_at (when it was stored)"
STREAM_CHUNK = 10_000


def feedback_time() -> ColumnElement[datetime]:
    """When a feedback row happened (see TIME_BASIS), as SQL both SQLite and PostgreSQL evaluate."""
    return func.coalesce(Feedback.predicted_at, Feedback.created_at)


Columns = TypeVarTuple("Columns")


# --- the feedback of a window, column by column ----------------------------------------------------------------


Window = dict[str, dict[str, Group]]  # model -> version -> its feedback


async def stream_rows(
    session: AsyncSession, statement: Select[*Columns], *, chunk: int = STREAM_CHUNK
) -> AsyncIterator[Row[*Columns]]:
    """The rows of a query fetched `chunk` at a time, never all materialised by the driver at once. Run on the
    session's connection, without the ORM's row processing: columns only, twice as fast."""
    connection = await session.connection()
    result = await connection.stream(statement.execution_options(yield_per=chunk))
    async for partition in result.partitions():
        for row in partition:
            yield row


async def get_window(
    session: AsyncSession, *, start: datetime, end: datetime, model_name: str | None = None, version: str | None = None
) -> Window:
    """The labelled production feedback whose time (see TIME_BASIS) lies in [start, end], grouped by model and
    version (feedback on red-team, evaluation or synthetic predictions is no measure of production)."""
    statement = select(
        Feedback.model_name,
        Feedback.model_version,
        feedback_time(),
        Feedback.true_label,
        Feedback.prediction,
        Feedback.score,
    ).where(feedback_time() >= start, feedback_time() <= end, Feedback.traffic_class == PRODUCTION)
    if model_name is not None:
        statement = statement.where(Feedback.model_name == model_name)
    if version is not None:
        statement = statement.where(Feedback.model_version == version)
    window: Window = defaultdict(lambda: defaultdict(Group))
    async for name, model_version, at, true_label, prediction, score in stream_rows(session, statement):
        group = window[name][model_version]
        group.times.append(as_utc(at).timestamp())
        group.true.append(true_label)
        group.predicted.append(prediction)
        group.scores.append(np.nan if score is None else score)
    return window


async def get_version_activity(
    session: AsyncSession, *, model_name: str | None = None
) -> dict[str, list[tuple[str, datetime]]]:
    """Every model with feedback, and its versions with their newest feedback time, the latest version first
    (the one that made the most recent labelled prediction)."""
    statement = (
        select(Feedback.model_name, Feedback.model_version, func.max(feedback_time()))
        .where(Feedback.traffic_class == PRODUCTION)
        .group_by(Feedback.model_name, Feedback.model_version)
    )
    if model_name is not None:
        statement = statement.where(Feedback.model_name == model_name)
    activity: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for name, model_version, last in (await session.execute(statement)).all():
        activity[name].append((model_version, as_utc(last)))
    for versions in activity.values():
        versions.sort(key=lambda item: (item[1], item[0]), reverse=True)
    return dict(sorted(activity.items()))


def _label_space(groups: Iterable[Group]) -> LabelSpace:
    return LabelSpace.of(label for group in groups for values in (group.true, group.predicted) for label in values)


# --- the service -----------------------------------------------------------------------------------------------


async def create_feedback(
    session: AsyncSession, *, items: Sequence[FeedbackItem], ctx: ServiceContext
) -> FeedbackRecorded:
    """Store the feedback (created_at: now, for all of it) and announce it on the "metrics" topic per model."""
    now = datetime.now(UTC)
    rows = [
        {
            **item.model_dump(),
            "created_at": now,
            "source": "api",
            "holdout": item.text is not None and is_holdout(item.text),
        }
        for item in items
    ]
    await session.execute(insert(Feedback), rows)
    await session.flush()
    touched: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        touched[item.model_name][item.model_version] += 1
    models = [
        ModelTouched(model_name=name, versions=sorted(versions), count=sum(versions.values()))
        for name, versions in sorted(touched.items())
    ]
    for model in models:
        ctx.publish("metrics", "feedback.recorded", {"model_name": model.model_name, "count": model.count})
    return FeedbackRecorded(stored=len(rows), models=models)


def _window_bounds(window_hours: float, now: datetime | None) -> tuple[datetime, datetime]:
    end = now or datetime.now(UTC)
    return end - timedelta(hours=window_hours), end


async def get_model_performance(
    session: AsyncSession,
    *,
    model_name: str,
    window_hours: float,
    buckets: int,
    version: str | None = None,
    now: datetime | None = None,
) -> ModelPerformance:
    """Metrics of each version of a model over the window, overall and per time bucket; 404 without feedback."""
    versions = (await get_version_activity(session, model_name=model_name)).get(model_name)
    if not versions:
        raise NoFeedbackError(model_name)
    if version is not None:
        versions = [item for item in versions if item[0] == version]
        if not versions:
            raise NoFeedbackError(model_name, version)
    start, end = _window_bounds(window_hours, now)
    groups = (await get_window(session, start=start, end=end, model_name=model_name, version=version)).get(
        model_name, {}
    )
    space = _label_space(groups.values())
    width = (end - start) / buckets
    performances = []
    for name, last in versions:
        group = groups.get(name, Group())
        performances.append(
            VersionPerformance(
                model_version=name,
                last_feedback_at=last,
                metrics=group.metrics(space),
                series=group.series(space, start=start, width=width, buckets=buckets),
            )
        )
    return ModelPerformance(
        **space.read().model_dump(),
        model_name=model_name,
        window_hours=window_hours,
        window_start=start,
        window_end=end,
        buckets=buckets,
        bucket_seconds=width.total_seconds(),
        time_basis=TIME_BASIS,
        count=sum(len(group.true) for group in groups.values()),
        latest_version=versions[0][0],
        versions=performances,
    )


async def get_all_metrics(
    session: AsyncSession, *, window_hours: float, now: datetime | None = None
) -> PerformanceMetrics:
    """Every model with feedback: its latest version's metrics over the window, and each version's."""
    activity = await get_version_activity(session)
    start, end = _window_bounds(window_hours, now)
    window = await get_window(session, start=start, end=end)
    models = []
    for model_name, versions in activity.items():
        groups = window.get(model_name, {})
        space = _label_space(groups.values())
        read = [
            VersionMetrics(model_version=name, last_feedback_at=last, metrics=groups.get(name, Group()).metrics(space))
            for name, last in versions
        ]
        models.append(
            ModelMetrics(
                **space.read().model_dump(),
                model_name=model_name,
                latest_version=read[0].model_version,
                latest=read[0].metrics,
                versions=read,
            )
        )
    return PerformanceMetrics(
        window_hours=window_hours,
        window_start=start,
        window_end=end,
        time_basis=TIME_BASIS,
        models=models,
        count=len(models),
    )
