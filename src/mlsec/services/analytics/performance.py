"""Labelled feedback: stored as sent, then measured per model, version and time bucket.

Time basis: a feedback row happened at its `predicted_at` when the client sent one, else at its `created_at`
(when it was stored). Windows and buckets use that time, so feedback labelled days later still counts where the
prediction was made.

Metrics come from one confusion matrix per group, with scikit-learn's definitions (`zero_division=0`; for a
multi-class model, macro averages over the labels present in the group, as sklearn does without `labels=`), and
ROC-AUC as the Mann-Whitney statistic, which is what `roc_auc_score` computes. sklearn's functions are not called
per group on purpose: their input checks cost about 4 ms a call, and a 500-bucket series of several versions
would spend seconds there. The unit tests hold these numbers equal to sklearn's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVarTuple

import numpy as np
from sqlalchemy import ColumnElement, Row, Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.app import ServiceContext
from mlsec.core.limits import as_utc
from mlsec.core.traffic import PRODUCTION
from mlsec.services.analytics.errors import NoFeedbackError
from mlsec.services.analytics.feedback_data import is_holdout
from mlsec.services.analytics.models import Feedback
from mlsec.services.analytics.schemas.performance import (
    BucketMetrics,
    Confusion,
    FeedbackItem,
    FeedbackRecorded,
    LabelSpaceRead,
    Metrics,
    ModelMetrics,
    ModelPerformance,
    ModelTouched,
    PerformanceMetrics,
    VersionMetrics,
    VersionPerformance,
)

TIME_BASIS = "predicted_at when the feedback carries it, else created_at (when it was stored)"
STREAM_CHUNK = 10_000


def feedback_time() -> ColumnElement[datetime]:
    """When a feedback row happened (see TIME_BASIS), as SQL both SQLite and PostgreSQL evaluate."""
    return func.coalesce(Feedback.predicted_at, Feedback.created_at)


Array = np.ndarray[Any, Any]
Columns = TypeVarTuple("Columns")


# --- metrics -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelSpace:
    """The labels of a model and how they are averaged: binary for a positive label, else macro."""

    labels: tuple[str, ...]
    positive: str | None

    @classmethod
    def of(cls, seen: Iterable[str]) -> LabelSpace:
        """The default model's "0"/"1" with "1" positive; two other labels: sorted, the second positive (what a
        binary model's score is the probability of); three or more: multi-class."""
        found = set(seen)
        if found <= {"0", "1"}:
            return cls(("0", "1"), "1")
        ordered = tuple(sorted(found))
        return cls(ordered, ordered[-1] if len(ordered) <= 2 else None)

    def encode(self, values: Sequence[str]) -> Array:
        index = {label: i for i, label in enumerate(self.labels)}
        return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))

    def read(self) -> LabelSpaceRead:
        average = "binary" if self.positive is not None else "macro"
        return LabelSpaceRead(average=average, positive_label=self.positive, labels=list(self.labels))


def _divide(numerator: Array, denominator: Array) -> Array:
    """numerator / denominator, 0 where the denominator is 0 (sklearn's zero_division=0)."""
    out = np.zeros(np.shape(numerator), dtype=np.float64)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def rates(matrix: Array, positive: int | None) -> tuple[float, float, float, float]:
    """accuracy, precision, recall and F1 of a non-empty confusion matrix (rows true, columns predicted)."""
    hits = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision, recall = _divide(hits, predicted), _divide(hits, actual)
    f1 = _divide(2 * hits, predicted + actual)
    # Binary: the positive label. Macro: every label that occurs, as true or as predicted (sklearn's default).
    chosen = [positive] if positive is not None else np.flatnonzero(predicted + actual > 0).tolist()
    accuracy = float(hits.sum() / matrix.sum())
    return accuracy, float(precision[chosen].mean()), float(recall[chosen].mean()), float(f1[chosen].mean())


def roc_auc(is_positive: Array, scores: Array) -> float:
    """The area under the ROC curve as the Mann-Whitney U statistic (ties count half); needs both classes."""
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # average ranks, 1-based, ties sharing theirs
    positives = int(is_positive.sum())
    negatives = is_positive.size - positives
    return float((ranks[is_positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _roc(space: LabelSpace, true: Array, scores: Array) -> tuple[float | None, str | None]:
    if space.positive is None:
        return None, "multi-class model: a score is the top class's probability, not one per class"
    scored = ~np.isnan(scores)
    if not scored.any():
        return None, "no feedback carries a score"
    is_positive = true[scored] == space.labels.index(space.positive)
    if is_positive.all() or not is_positive.any():
        return None, "the scored feedback holds one class only"
    return roc_auc(is_positive, scores[scored]), None


def _confusion(space: LabelSpace, matrix: Array) -> Confusion:
    confusion = Confusion(labels=list(space.labels), matrix=matrix.tolist())
    if space.positive is not None:
        p = space.labels.index(space.positive)
        hits = int(matrix[p, p])
        confusion.true_positive, confusion.false_positive = hits, int(matrix[:, p].sum()) - hits
        confusion.false_negative = int(matrix[p].sum()) - hits
        confusion.true_negative = int(matrix.sum()) - hits - confusion.false_positive - confusion.false_negative
    return confusion


def metrics_of(space: LabelSpace, true: Array, predicted: Array, scores: Array) -> Metrics:
    """The metrics of one group: label indexes into `space` and scores (NaN where none was sent)."""
    if true.size == 0:
        empty = dict.fromkeys(("accuracy", "precision", "recall", "f1", "roc_auc", "confusion"))
        return Metrics(count=0, scored=0, roc_auc_reason="no feedback", **empty)
    k = len(space.labels)
    matrix = np.bincount(true * k + predicted, minlength=k * k).reshape(k, k)
    positive = space.labels.index(space.positive) if space.positive is not None else None
    accuracy, precision, recall, f1 = rates(matrix, positive)
    auc, reason = _roc(space, true, scores)
    return Metrics(
        count=int(true.size),
        accuracy=accuracy,
        precision=precision,
        recall=recall,
        f1=f1,
        roc_auc=auc,
        roc_auc_reason=reason,
        scored=int((~np.isnan(scores)).sum()),
        confusion=_confusion(space, matrix),
    )


# --- the feedback of a window, column by column ----------------------------------------------------------------


@dataclass
class Group:
    """The feedback of one model version in a window."""

    times: list[float] = field(default_factory=list)
    true: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    def metrics(self, space: LabelSpace) -> Metrics:
        return metrics_of(space, space.encode(self.true), space.encode(self.predicted), self._scores())

    def _scores(self) -> Array:
        return np.array(self.scores, dtype=np.float64)

    def series(self, space: LabelSpace, *, start: datetime, width: timedelta, buckets: int) -> list[BucketMetrics]:
        """`buckets` equal buckets from `start`; a row on the window's end falls into the last one."""
        true, predicted, scores = space.encode(self.true), space.encode(self.predicted), self._scores()
        offsets = (np.array(self.times, dtype=np.float64) - start.timestamp()) / width.total_seconds()
        index = np.clip(np.floor(offsets).astype(np.int64), 0, buckets - 1)
        order = np.argsort(index, kind="stable")
        bounds = np.searchsorted(index[order], np.arange(buckets + 1))
        series = []
        for bucket in range(buckets):
            rows = order[bounds[bucket] : bounds[bucket + 1]]
            metrics = metrics_of(space, true[rows], predicted[rows], scores[rows])
            begins = start + width * bucket
            series.append(BucketMetrics(**metrics.model_dump(), start=begins, end=begins + width))
        return series


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


async def load_window(
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


async def version_activity(
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


async def record(session: AsyncSession, *, items: Sequence[FeedbackItem], ctx: ServiceContext) -> FeedbackRecorded:
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


async def model_performance(
    session: AsyncSession,
    *,
    model_name: str,
    window_hours: float,
    buckets: int,
    version: str | None = None,
    now: datetime | None = None,
) -> ModelPerformance:
    """Metrics of each version of a model over the window, overall and per time bucket; 404 without feedback."""
    versions = (await version_activity(session, model_name=model_name)).get(model_name)
    if not versions:
        raise NoFeedbackError(model_name)
    if version is not None:
        versions = [item for item in versions if item[0] == version]
        if not versions:
            raise NoFeedbackError(model_name, version)
    start, end = _window_bounds(window_hours, now)
    groups = (await load_window(session, start=start, end=end, model_name=model_name, version=version)).get(
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


async def all_metrics(session: AsyncSession, *, window_hours: float, now: datetime | None = None) -> PerformanceMetrics:
    """Every model with feedback: its latest version's metrics over the window, and each version's."""
    activity = await version_activity(session)
    start, end = _window_bounds(window_hours, now)
    window = await load_window(session, start=start, end=end)
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
