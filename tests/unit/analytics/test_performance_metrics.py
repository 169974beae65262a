"""The per-group metrics of the analytics service equal scikit-learn's on the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from mlsec.services.analytics.service.metrics import Group, LabelSpace, metrics_of


def _group(true: list[str], predicted: list[str], scores: list[float] | None = None) -> Group:
    values = [np.nan] * len(true) if scores is None else scores
    return Group(times=[0.0] * len(true), true=true, predicted=predicted, scores=values)


@pytest.mark.parametrize(
    ("seen", "labels", "positive"),
    [
        ([], ("0", "1"), "1"),
        (["0"], ("0", "1"), "1"),
        (["1", "0"], ("0", "1"), "1"),
        (["malicious", "benign"], ("benign", "malicious"), "malicious"),
        (["b", "a", "c"], ("a", "b", "c"), None),
    ],
)
def test_label_space(seen: list[str], labels: tuple[str, ...], positive: str | None) -> None:
    space = LabelSpace.of(seen)
    assert (space.labels, space.positive) == (labels, positive)


@pytest.mark.parametrize("seed", range(5))
def test_binary_metrics_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(5, 300))
    true = rng.choice(["0", "1"], size).tolist()
    predicted = rng.choice(["0", "1"], size).tolist()
    scores = np.round(rng.random(size), 1).tolist()  # rounded: many ties, which ROC-AUC counts half
    metrics = _group(true, predicted, scores).metrics(LabelSpace.of(true + predicted))

    assert metrics.count == size and metrics.scored == size
    assert metrics.accuracy == pytest.approx(accuracy_score(true, predicted))
    assert metrics.precision == pytest.approx(precision_score(true, predicted, pos_label="1", zero_division=0))
    assert metrics.recall == pytest.approx(recall_score(true, predicted, pos_label="1", zero_division=0))
    assert metrics.f1 == pytest.approx(f1_score(true, predicted, pos_label="1", zero_division=0))
    assert metrics.roc_auc == pytest.approx(roc_auc_score([t == "1" for t in true], scores))
    assert metrics.confusion is not None
    positives = [t == "1" for t in true]
    hits = [p == "1" for p in predicted]
    assert metrics.confusion.true_positive == sum(a and b for a, b in zip(positives, hits, strict=True))
    assert metrics.confusion.false_positive == sum(b and not a for a, b in zip(positives, hits, strict=True))
    assert metrics.confusion.false_negative == sum(a and not b for a, b in zip(positives, hits, strict=True))
    assert metrics.confusion.true_negative == sum(not a and not b for a, b in zip(positives, hits, strict=True))


@pytest.mark.parametrize("seed", range(5))
def test_multiclass_macro_metrics_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(5, 200))
    true = rng.choice(["a", "b", "c", "d"], size).tolist()
    predicted = rng.choice(["a", "b", "c"], size).tolist()  # "d" is never predicted
    space = LabelSpace.of(true + predicted)
    metrics = _group(true, predicted, rng.random(size).tolist()).metrics(space)

    assert metrics.accuracy == pytest.approx(accuracy_score(true, predicted))
    for name, function in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        assert getattr(metrics, name) == pytest.approx(function(true, predicted, average="macro", zero_division=0))
    assert metrics.roc_auc is None and "multi-class" in (metrics.roc_auc_reason or "")
    assert metrics.confusion is not None and metrics.confusion.true_positive is None


def test_macro_averages_over_the_labels_present_in_the_group() -> None:
    """A label of the model that a bucket never saw does not count as a zero in that bucket's average."""
    space = LabelSpace.of(["a", "b", "c"])
    metrics = _group(["a", "a", "b"], ["a", "b", "b"]).metrics(space)
    assert metrics.f1 == pytest.approx(f1_score(["a", "a", "b"], ["a", "b", "b"], average="macro"))


@pytest.mark.parametrize(
    ("true", "scores", "reason"),
    [
        (["1", "1", "1"], [0.2, 0.9, 0.5], "one class"),
        (["0", "1", "1"], None, "no feedback carries a score"),
        (["0", "1", "0"], [0.7, np.nan, np.nan], "one class"),
    ],
    ids=["one-class", "no-scores", "scored-rows-one-class"],
)
def test_roc_auc_is_null_with_a_reason(true: list[str], scores: list[float] | None, reason: str) -> None:
    metrics = _group(true, ["1"] * len(true), scores).metrics(LabelSpace.of(["0", "1"]))
    assert metrics.roc_auc is None
    assert reason in (metrics.roc_auc_reason or "")


def test_roc_auc_uses_the_scored_rows() -> None:
    true, scores = ["0", "1", "0", "1", "1"], [0.1, 0.8, np.nan, 0.3, np.nan]
    metrics = _group(true, ["1"] * 5, scores).metrics(LabelSpace.of(["0", "1"]))
    assert metrics.scored == 3
    assert metrics.roc_auc == pytest.approx(roc_auc_score([0, 1, 1], [0.1, 0.8, 0.3]))


def test_empty_group_has_null_metrics() -> None:
    space = LabelSpace.of([])
    metrics = metrics_of(space, np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([]))
    assert metrics.count == 0
    assert (metrics.accuracy, metrics.f1, metrics.roc_auc, metrics.confusion) == (None, None, None, None)


def test_series_places_rows_in_equal_buckets() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    at = [start + timedelta(minutes=m) for m in (5, 15, 50, 60)]  # 60: the window's end, in the last bucket
    group = Group(
        times=[t.timestamp() for t in at],
        true=["1", "0", "1", "1"],
        predicted=["1", "1", "1", "0"],
        scores=[np.nan] * 4,
    )
    series = group.series(LabelSpace.of(["0", "1"]), start=start, width=timedelta(minutes=20), buckets=3)
    assert [b.count for b in series] == [2, 0, 2]
    assert [b.start for b in series] == [start + timedelta(minutes=20 * i) for i in range(3)]
    assert series[0].accuracy == 0.5 and series[1].accuracy is None and series[2].accuracy == 0.5
