"""What a serving service holds while it runs: the model repository, the prediction log, the limits."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter

from mlsec.core.errors import PayloadTooLargeError
from mlsec.core.logging import current_request_id
from mlsec.core.settings import ServingSettings
from mlsec.core.telemetry import current_trace_id
from mlsec.core.traffic import PRODUCTION, TrafficClass
from mlsec.serving.model import LoadedModel, Prediction
from mlsec.serving.prediction_log import PredictionLog
from mlsec.serving.records import queued_records
from mlsec.serving.repository import ModelRepository
from mlsec.serving.spans import PredictionSpans
from mlsec.serving.summary import PredictionSummaries


class LabelMetrics:
    """Predictions per model, answered label and traffic class: what the gateway's security overview reads
    (detections, production only)."""

    def __init__(self, registry: CollectorRegistry):
        self.labels = Counter(
            "mlsec_serving_labels_total",
            "Predictions answered, by model, label and traffic class",
            ["model", "label", "traffic_class"],
            registry=registry,
        )

    def count(self, model: LoadedModel, predictions: Sequence[Prediction], traffic_class: str) -> None:
        for prediction in predictions:
            self.labels.labels(model.name, str(prediction.label), traffic_class).inc()


@dataclass
class ServingState:
    repository: ModelRepository
    log: PredictionLog
    settings: ServingSettings
    source: str
    settings_prefix: str
    label_metrics: LabelMetrics
    summaries: PredictionSummaries
    spans: PredictionSpans

    def check_texts(self, texts: Sequence[str]) -> None:
        """413 naming the setting when a text is longer than allowed."""
        limit = self.settings.max_text_chars
        for index, text in enumerate(texts):
            if len(text) > limit:
                where = f"text {index}" if len(texts) > 1 else "the text"
                raise PayloadTooLargeError(
                    f"{where} has {len(text)} characters; the limit is {limit} ({self.settings_prefix}MAX_TEXT_CHARS)",
                    details={"limit": limit, "index": index},
                )

    def check_batch(self, size: int) -> None:
        limit = self.settings.max_batch_items
        if size > limit:
            raise PayloadTooLargeError(
                f"the batch has {size} items; the limit is {limit} ({self.settings_prefix}MAX_BATCH_ITEMS)",
                details={"limit": limit},
            )

    async def predict_one(
        self, name: str | None, item: Any, version: str | None, traffic_class: TrafficClass = PRODUCTION
    ) -> tuple[LoadedModel, Prediction, float]:
        started = time.perf_counter()
        name = name or self.settings.default_model
        with self.spans.prediction(name, version, traffic_class, 1) as span:
            with self.spans.child(span, "model.predict"):
                model, prediction = await self.repository.predict_one(name, item, version=version)
            latency_ms = (time.perf_counter() - started) * 1000
            self.spans.describe(span, model, [prediction])
            with self.spans.child(span, "prediction_log.record"):
                self._log(model, [item], [prediction], latency_ms, traffic_class)
        return model, prediction, latency_ms

    async def predict_many(
        self, name: str | None, items: Sequence[Any], version: str | None, traffic_class: TrafficClass = PRODUCTION
    ) -> tuple[LoadedModel, list[Prediction], float]:
        started = time.perf_counter()
        name = name or self.settings.default_model
        with self.spans.prediction(name, version, traffic_class, len(items)) as span:
            with self.spans.child(span, "model.predict"):
                model, predictions = await self.repository.predict_many(name, items, version=version)
            latency_ms = (time.perf_counter() - started) * 1000
            self.spans.describe(span, model, predictions)
            with self.spans.child(span, "prediction_log.record"):
                self._log(model, items, predictions, latency_ms, traffic_class)
        return model, predictions, latency_ms

    def _log(
        self,
        model: LoadedModel,
        items: Sequence[Any],
        predictions: Sequence[Prediction],
        latency_ms: float,
        traffic_class: TrafficClass,
    ) -> None:
        self.label_metrics.count(model, predictions, traffic_class)
        self.summaries.add(model, predictions, latency_ms, traffic_class)
        for record in queued_records(
            model,
            items,
            predictions,
            latency_ms=latency_ms,
            request_id=current_request_id(),
            trace_id=current_trace_id(),
            source=self.source,
            traffic_class=traffic_class,
        ):
            self.log.record(record)


def get_serving(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state
