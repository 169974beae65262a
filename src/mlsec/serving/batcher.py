"""Adaptive micro-batching: concurrent single predictions share one vectorised model call.

A text model spends most of a call on fixed per-call overhead (pandas, pipeline dispatch), so predicting
50 texts at once costs little more than one. The rule adapts to load: when the model is idle a request
goes at once (a lone request is never delayed); while a batch is running, arrivals gather and go when
the batch is full, when the running batch ends, or `max_wait` after the first of them arrived, whichever
comes first. Prediction runs in worker threads bounded by a shared CapacityLimiter, so the event loop
stays free and the number of CPU-bound threads stays fixed.

Built on asyncio (futures, one collector task per batcher); the services run on asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from prometheus_client import CollectorRegistry, Counter, Histogram

from mlsec.serving.errors import ServingError
from mlsec.serving.model import Prediction

# What a predict function returns per item: its Prediction, or the exception for that item alone (so
# that one bad input need not fail the other requests of its batch).
Outcome = Prediction | Exception
PredictFn = Callable[[list[Any]], Sequence[Outcome]]
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
logger = logging.getLogger("mlsec.serving.batcher")


class BatchMetrics:
    """The batchers' Prometheus metrics, registered once per registry and shared by every batcher."""

    def __init__(self, registry: CollectorRegistry):
        self.batch_size = Histogram(
            "mlsec_serving_batch_size",
            "Items per model call",
            ["model"],
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.batch_wait = Histogram(
            "mlsec_serving_batch_wait_seconds",
            "How long the first item of a micro-batch waited before the batch was released",
            ["model"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.batches = Counter(
            "mlsec_serving_batches_total",
            "Model calls, by why the batch was released (full, timeout, idle; direct: a caller's own batch)",
            ["model", "reason"],
            registry=registry,
        )
        self.predictions = Counter("mlsec_serving_predictions_total", "Items predicted", ["model"], registry=registry)


@dataclass
class _Pending:
    item: Any
    future: asyncio.Future[Prediction]
    arrived: float  # time.monotonic()


class MicroBatcher:
    """Groups concurrent `submit` calls for one model into calls of `predict`."""

    def __init__(
        self,
        predict: PredictFn,
        *,
        label: str,
        max_batch: int,
        max_wait: float,
        limiter: anyio.CapacityLimiter,
        metrics: BatchMetrics,
    ):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait < 0:
            raise ValueError("max_wait must not be negative")
        self._predict = predict
        self.label = label
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._limiter = limiter
        self._metrics = metrics
        self._queue: deque[_Pending] = deque()
        self._running = 0  # micro-batches released and not finished
        self._outstanding = 0  # items submitted and not answered, plus direct calls in progress
        self._wakeup = asyncio.Event()
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._collector: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether anything is queued or running."""
        return self._outstanding > 0

    async def submit(self, item: Any) -> Prediction:
        """Predict one item, batched with whatever else arrives meanwhile."""
        self._check_open()
        if self._collector is None:
            self._collector = asyncio.get_running_loop().create_task(self._collect(), name=f"batcher:{self.label}")
        future: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(item, future, time.monotonic()))
        self._begin(1)
        self._wakeup.set()
        try:
            return await future
        finally:
            if not future.done():  # the caller was cancelled while queued: forget the item
                future.cancel()

    async def submit_many(self, items: Sequence[Any]) -> list[Prediction]:
        """Predict a caller's own batch in chunks of max_batch, one thread call each, without waiting for
        other requests (a caller that already has a batch gains nothing from waiting)."""
        self._check_open()
        items = list(items)
        if not items:
            return []
        self._begin(1)
        try:
            results: list[Prediction] = []
            for start in range(0, len(items), self.max_batch):
                chunk = items[start : start + self.max_batch]
                outcomes = await self._call(chunk, reason="direct")
                for outcome in outcomes:
                    if isinstance(outcome, Exception):
                        raise outcome
                    results.append(outcome)
            return results
        finally:
            self._end(1)

    async def drain(self) -> None:
        """Wait until nothing is queued or running."""
        await self._quiet.wait()

    async def close(self) -> None:
        """Stop collecting: queued submits fail, running batches finish and deliver their results."""
        self._closed = True
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
            self._collector = None
        self._fail_queued(ServingError(f"The batcher of model {self.label} is closed."))
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)

    # --- internals -----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ServingError(f"The batcher of model {self.label} is closed.")

    def _begin(self, count: int) -> None:
        self._outstanding += count
        self._quiet.clear()

    def _end(self, count: int) -> None:
        self._outstanding -= count
        if self._outstanding <= 0:
            self._outstanding = 0
            self._quiet.set()

    def _fail_queued(self, error: Exception) -> None:
        while self._queue:
            pending = self._queue.popleft()
            if not pending.future.done():
                pending.future.set_exception(error)
            self._end(1)

    async def _collect(self) -> None:
        """The one task that decides when queued items go; see the module docstring for the rule."""
        try:
            while True:
                self._wakeup.clear()
                self._drop_cancelled()
                if not self._queue:
                    await self._wakeup.wait()
                    continue
                if len(self._queue) >= self.max_batch:
                    self._release("full")
                    continue
                if self._running == 0:
                    self._release("idle")
                    continue
                remaining = self._queue[0].arrived + self.max_wait - time.monotonic()
                if remaining <= 0:
                    self._release("timeout")
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=remaining)
        except Exception as exc:  # a bug here must not leave callers waiting forever
            logger.exception("batcher.collector_failed", extra={"model": self.label})
            self._closed = True
            self._fail_queued(ServingError(f"The batcher of model {self.label} failed: {exc}"))

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0].future.done():
            self._queue.popleft()
            self._end(1)

    def _release(self, reason: str) -> None:
        batch: list[_Pending] = []
        while self._queue and len(batch) < self.max_batch:
            pending = self._queue.popleft()
            if pending.future.done():
                self._end(1)
                continue
            batch.append(pending)
        if not batch:
            return
        self._metrics.batch_wait.labels(self.label).observe(time.monotonic() - batch[0].arrived)
        self._running += 1
        task = asyncio.get_running_loop().create_task(self._run(batch, reason))
        self._batches.add(task)
        task.add_done_callback(self._batches.discard)

    async def _run(self, batch: list[_Pending], reason: str) -> None:
        try:
            outcomes: Sequence[Outcome] = await self._call([pending.item for pending in batch], reason=reason)
        except Exception as exc:
            outcomes = [exc] * len(batch)
        finally:
            self._running -= 1
            self._wakeup.set()  # the collector may release what gathered meanwhile
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.future.done():
                if isinstance(outcome, Exception):
                    pending.future.set_exception(outcome)
                else:
                    pending.future.set_result(outcome)
        self._end(len(batch))

    async def _call(self, items: list[Any], *, reason: str) -> Sequence[Outcome]:
        outcomes = await anyio.to_thread.run_sync(self._predict, items, limiter=self._limiter)
        if len(outcomes) != len(items):
            raise ServingError(f"Model {self.label} returned {len(outcomes)} predictions for {len(items)} inputs.")
        self._metrics.batches.labels(self.label, reason).inc()
        self._metrics.batch_size.labels(self.label).observe(len(items))
        self._metrics.predictions.labels(self.label).inc(sum(1 for o in outcomes if not isinstance(o, Exception)))
        return outcomes
