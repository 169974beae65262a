"""The micro-batcher's release rule, error delivery and metrics, with a fake model (no MLflow)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import anyio
import pytest
from prometheus_client import CollectorRegistry

from mlsec.serving import BatchMetrics, MicroBatcher, Prediction, ServingError
from mlsec.serving.batcher import Outcome

pytestmark = pytest.mark.anyio
LABEL = "fake:1"


class FakeModel:
    """Doubles numbers; records each call's items; optionally slow or failing."""

    def __init__(self, *, delay: float = 0.0, error: Exception | None = None):
        self.delay = delay
        self.error = error
        self.calls: list[list[Any]] = []
        self.threads: set[int] = set()

    def __call__(self, items: list[Any]) -> Sequence[Outcome]:
        self.calls.append(list(items))
        self.threads.add(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return [Prediction(label=item * 2, score=None, probabilities=None) for item in items]


def make(model: FakeModel, registry: CollectorRegistry, *, max_batch: int = 64, max_wait: float = 0.05) -> MicroBatcher:
    return MicroBatcher(
        model,
        label=LABEL,
        max_batch=max_batch,
        max_wait=max_wait,
        limiter=anyio.CapacityLimiter(2),
        metrics=BatchMetrics(registry),
    )


def is_busy(batcher: MicroBatcher) -> bool:
    """Read through a function, so that mypy does not narrow the property between asserts."""
    return batcher.busy


def released(registry: CollectorRegistry, reason: str) -> float:
    return registry.get_sample_value("mlsec_serving_batches_total", {"model": LABEL, "reason": reason}) or 0.0


async def test_concurrent_submits_share_calls_and_keep_their_results(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel(delay=0.01)
    batcher = make(model, metrics_registry, max_batch=16)
    try:
        results = await asyncio.gather(*(batcher.submit(i) for i in range(50)))
    finally:
        await batcher.close()
    assert [r.label for r in results] == [i * 2 for i in range(50)]
    assert len(model.calls) < 50
    assert sorted(item for call in model.calls for item in call) == list(range(50))
    assert all(len(call) <= 16 for call in model.calls)
    assert threading.get_ident() not in model.threads  # predictions run in worker threads
    assert metrics_registry.get_sample_value("mlsec_serving_predictions_total", {"model": LABEL}) == 50
    assert metrics_registry.get_sample_value("mlsec_serving_batch_size_count", {"model": LABEL}) == len(model.calls)
    assert metrics_registry.get_sample_value("mlsec_serving_batch_size_sum", {"model": LABEL}) == 50
    assert sum(released(metrics_registry, reason) for reason in ("full", "idle", "timeout")) == len(model.calls)
    assert metrics_registry.get_sample_value("mlsec_serving_batch_wait_seconds_count", {"model": LABEL}) == len(
        model.calls
    )


async def test_a_lone_request_is_released_at_once(metrics_registry: CollectorRegistry) -> None:
    batcher = make(FakeModel(), metrics_registry, max_wait=0.5)
    try:
        started = time.perf_counter()
        result = await batcher.submit(21)
        elapsed = time.perf_counter() - started
        again = await batcher.submit(1)
    finally:
        await batcher.close()
    assert result.label == 42
    assert again.label == 2
    assert elapsed < 0.2
    assert released(metrics_registry, "idle") == 2
    assert released(metrics_registry, "timeout") == 0


async def test_a_full_batch_goes_without_waiting(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel()
    batcher = make(model, metrics_registry, max_batch=4, max_wait=5.0)
    try:
        started = time.perf_counter()
        results = await asyncio.gather(*(batcher.submit(i) for i in range(8)))
        elapsed = time.perf_counter() - started
    finally:
        await batcher.close()
    assert [r.label for r in results] == [i * 2 for i in range(8)]
    assert model.calls == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert released(metrics_registry, "full") == 2
    assert elapsed < 1.0


async def test_while_busy_arrivals_wait_at_most_max_wait(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel(delay=0.4)
    batcher = make(model, metrics_registry, max_wait=0.05)
    try:
        first = asyncio.ensure_future(batcher.submit(1))
        await asyncio.sleep(0.05)  # the first batch is running now
        started = time.perf_counter()
        second = await batcher.submit(2)
        elapsed = time.perf_counter() - started
        assert (await first).label == 2
    finally:
        await batcher.close()
    assert second.label == 4
    assert released(metrics_registry, "idle") == 1
    assert released(metrics_registry, "timeout") == 1
    assert elapsed < 0.4 + 0.3  # did not wait for the first batch: released after max_wait, ran alongside


async def test_while_busy_arrivals_go_when_the_running_batch_ends(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel(delay=0.2)
    batcher = make(model, metrics_registry, max_wait=10.0)
    try:
        first = asyncio.ensure_future(batcher.submit(1))
        await asyncio.sleep(0.05)
        others = await asyncio.gather(*(batcher.submit(i) for i in (2, 3, 4)))
        await first
    finally:
        await batcher.close()
    assert [r.label for r in others] == [4, 6, 8]
    assert model.calls == [[1], [2, 3, 4]]
    assert released(metrics_registry, "idle") == 2


async def test_an_error_reaches_every_request_of_the_batch(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel(error=ValueError("model exploded"))
    batcher = make(model, metrics_registry)
    try:
        results = await asyncio.gather(*(batcher.submit(i) for i in range(5)), return_exceptions=True)
    finally:
        await batcher.close()
    assert len(model.calls) == 1
    assert all(isinstance(r, ValueError) and str(r) == "model exploded" for r in results)
    assert metrics_registry.get_sample_value("mlsec_serving_predictions_total", {"model": LABEL}) is None


async def test_a_per_item_error_fails_only_its_request(metrics_registry: CollectorRegistry) -> None:
    def predict(items: list[Any]) -> Sequence[Outcome]:
        return [
            ValueError("odd") if item % 2 else Prediction(label=item, score=None, probabilities=None) for item in items
        ]

    batcher = MicroBatcher(
        predict,
        label=LABEL,
        max_batch=8,
        max_wait=0.01,
        limiter=anyio.CapacityLimiter(1),
        metrics=BatchMetrics(metrics_registry),
    )
    try:
        results = await asyncio.gather(*(batcher.submit(i) for i in range(4)), return_exceptions=True)
    finally:
        await batcher.close()
    assert [r.label if isinstance(r, Prediction) else type(r) for r in results] == [0, ValueError, 2, ValueError]


async def test_submit_many_splits_a_callers_batch(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel()
    batcher = make(model, metrics_registry, max_batch=4)
    try:
        results = await batcher.submit_many(list(range(10)))
        assert await batcher.submit_many([]) == []
    finally:
        await batcher.close()
    assert [r.label for r in results] == [i * 2 for i in range(10)]
    assert [len(call) for call in model.calls] == [4, 4, 2]
    assert released(metrics_registry, "direct") == 3
    assert metrics_registry.get_sample_value("mlsec_serving_predictions_total", {"model": LABEL}) == 10


async def test_drain_waits_and_close_fails_what_is_queued(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel(delay=0.3)
    batcher = make(model, metrics_registry, max_wait=30.0)
    running = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.05)
    assert is_busy(batcher)
    drained = asyncio.ensure_future(batcher.drain())
    await asyncio.sleep(0)
    assert not drained.done()
    assert (await running).label == 2
    await asyncio.wait_for(drained, 1.0)
    assert not is_busy(batcher)

    running = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.05)
    queued = asyncio.ensure_future(batcher.submit(2))  # waits: a batch runs and max_wait is long
    await asyncio.sleep(0.05)
    await batcher.close()
    assert (await running).label == 2  # running work finishes
    with pytest.raises(ServingError, match="closed"):
        await queued
    with pytest.raises(ServingError, match="closed"):
        await batcher.submit(3)
    assert model.calls == [[1], [1]]


async def test_a_cancelled_request_is_not_predicted(metrics_registry: CollectorRegistry) -> None:
    model = FakeModel(delay=0.2)
    batcher = make(model, metrics_registry, max_wait=0.1)
    try:
        running = asyncio.ensure_future(batcher.submit(1))
        await asyncio.sleep(0.02)
        cancelled = asyncio.ensure_future(batcher.submit(2))
        kept = asyncio.ensure_future(batcher.submit(3))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        assert (await kept).label == 6
        await running
        await batcher.drain()
    finally:
        await batcher.close()
    assert model.calls == [[1], [3]]
    assert not batcher.busy
