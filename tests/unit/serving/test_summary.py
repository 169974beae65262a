"""The live prediction feed: one summary per model version and traffic class a second, none when idle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from mlsec.serving.model import LoadedModel, Prediction
from mlsec.serving.summary import MAX_LATENCY_SAMPLES, PredictionSummaries

pytestmark = pytest.mark.anyio


def _model(name: str = "detector", version: str = "1") -> LoadedModel:
    return LoadedModel(
        name=name,
        version=version,
        run_id=None,
        task="text_classification",
        threshold=None,
        classes=["0", "1"],
        source=f"models:/{name}/{version}",
        size_bytes=1,
        load_seconds=0.0,
        loaded_at=datetime.now(UTC),
        input_columns=["text"],
        model=None,
    )


def _answers(*labels: int) -> list[Prediction]:
    return [Prediction(label=label, score=float(label), probabilities=None) for label in labels]


def test_a_summary_counts_labels_and_gives_request_latency_percentiles() -> None:
    summaries = PredictionSummaries(source="model-cache")
    latencies = [float(ms) for ms in range(1, 101)]
    for ms in latencies:
        summaries.add(_model(), _answers(1, 0, 0), ms, "production")
    summaries.add(_model(), _answers(1), 5.0, "redteam")
    summaries.add(_model(version="2"), _answers(0), 7.0, "production")
    by_key = {(s["model_version"], s["traffic_class"]): s for s in summaries.summarise()}
    assert set(by_key) == {("1", "production"), ("1", "redteam"), ("2", "production")}
    main = by_key[("1", "production")]
    assert (main["predictions"], main["requests"], main["labels"]) == (300, 100, {"1": 100, "0": 200})
    assert main["latency_ms"] == {
        "p50": round(float(np.percentile(latencies, 50)), 3),
        "p99": round(float(np.percentile(latencies, 99)), 3),
        "max": 100.0,
    }
    assert main["service"] == "model-cache" and main["predictions_per_second"] > 0
    assert by_key[("1", "redteam")]["labels"] == {"1": 1}
    assert summaries.summarise() == []  # counted once: the next second starts from nothing


def test_latency_percentiles_stay_right_beyond_the_sample_size() -> None:
    summaries = PredictionSummaries(source="model-api")
    for index in range(MAX_LATENCY_SAMPLES * 2):
        summaries.add(_model(), _answers(0), float(index % 10), "synthetic")
    (summary,) = summaries.summarise()
    assert summary["requests"] == MAX_LATENCY_SAMPLES * 2 and 3.0 <= summary["latency_ms"]["p50"] <= 6.0


async def test_summaries_are_published_each_interval_while_there_is_traffic_and_on_close() -> None:
    published: list[dict[str, Any]] = []
    summaries = PredictionSummaries(source="model-api", interval_seconds=0.05)
    summaries.start(published.append)
    summaries.add(_model(), _answers(1), 2.0, "production")
    await asyncio.sleep(0.2)
    assert [s["predictions"] for s in published] == [1]  # one summary, then quiet while idle
    summaries.add(_model(), _answers(0, 0), 3.0, "production")
    await summaries.close(published.append)
    assert [s["predictions"] for s in published] == [1, 2]
