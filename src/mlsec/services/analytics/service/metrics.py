"""The metrics performance is measured with, from one confusion matrix per group of feedback.

scikit-learn's definitions (`zero_division=0`; for a multi-class model, macro averages over the labels present
in the group, as sklearn does without `labels=`), and ROC-AUC as the Mann-Whitney statistic, which is what
`roc_auc_score` computes. sklearn's functions are not called per group on purpose: their input checks cost about
4 ms a call, and a 500-bucket series of several versions would spend seconds there. The unit tests hold these
numbers equal to sklearn's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mlsec.services.analytics.schemas.performance import BucketMetrics, Confusion, LabelSpaceRead, Metrics

Array = np.ndarray[Any, Any]


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
