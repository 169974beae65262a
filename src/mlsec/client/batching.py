"""Classifying many texts with one served model version, batch by batch, through the model API.

The first answered batch decides the version: later batches ask for that version number, so a champion swapped
while the texts are classified cannot mix two models into one result. Batches never exceed the model API's
limit: its default, or the limit it names when it refuses a batch as too large. Used by the red team (service
and CLI) and by promotion, which also reads the per-text latencies the model API measured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mlsec.client.base import ServiceCallError
from mlsec.client.serving import ModelAPIClient
from mlsec.core.settings import ServingSettings
from mlsec.core.traffic import TrafficClass

MODEL_API_BATCH_LIMIT = int(ServingSettings.model_fields["max_batch_items"].default)
Progress = Callable[[int, int], None]
FailureKind = Literal["not_served", "unavailable", "bad_answer"]


class ClassifyError(ServiceCallError):
    """The model API could not label the texts: `kind` says why, the message says it in words."""

    def __init__(self, kind: FailureKind, message: str, *, status_code: int | None = None):
        super().__init__("model-api", message, status_code=status_code, error_type=kind)
        self.kind: FailureKind = kind

    def __str__(self) -> str:
        return str(self.args[0]).removeprefix("model-api: ")

    @classmethod
    def of(cls, exc: ServiceCallError, *, model_name: str, version: str | None) -> ClassifyError:
        what = model_name if version is None else f"{model_name} version {version}"
        if exc.status_code == 404:
            return cls("not_served", f"model {what} is not served by the model API ({exc})", status_code=404)
        if exc.status_code is None or exc.status_code >= 500:
            return cls("unavailable", f"the model API is unavailable ({exc})", status_code=exc.status_code)
        return cls("bad_answer", f"the model API could not label the texts ({exc})", status_code=exc.status_code)


def _batch_limit(exc: ServiceCallError) -> int | None:
    """The model API's batch limit when it refused a batch as too large (not a text as too long)."""
    details = exc.body.get("details")
    if exc.status_code != 413 or not isinstance(details, dict) or "index" in details:
        return None
    limit = details.get("limit")
    return limit if isinstance(limit, int) and limit >= 1 else None


@dataclass
class BatchClassifier:
    """Labels texts with one served model version; `answered_version` is the version that answered."""

    client: ModelAPIClient
    model_name: str
    version: str | None = None
    batch_size: int = 64
    answered_version: str | None = None
    latencies_ms: list[float] = field(default_factory=list)
    """Per text, for each answered batch: the model API's own latency of the batch divided by its size."""
    traffic_class: TrafficClass = "evaluation"
    """What these predictions are to monitoring: never production, so they feed no drift check or retrain."""

    def __post_init__(self) -> None:
        self.batch_size = max(1, min(self.batch_size, MODEL_API_BATCH_LIMIT))

    @property
    def median_latency_ms(self) -> float | None:
        ordered = sorted(self.latencies_ms)
        return ordered[len(ordered) // 2] if ordered else None

    async def labels(self, texts: Sequence[str], progress: Progress | None = None) -> list[str]:
        """One label per text, in order; `progress(done, total)` after each batch. Raises ClassifyError."""
        labels: list[str] = []
        while len(labels) < len(texts):
            answered = await self._predict(list(texts[len(labels) : len(labels) + self.batch_size]))
            if answered is not None:
                labels.extend(answered)
                if progress is not None:
                    progress(len(labels), len(texts))
        return labels

    async def _predict(self, batch: list[str]) -> list[str] | None:
        """The batch's labels; None when refused as too large (the batch size is then the model API's limit)."""
        try:
            answer = await self.client.predict_batch(
                batch,
                model_name=self.model_name,
                version=self.answered_version or self.version,
                traffic_class=self.traffic_class,
            )
        except ServiceCallError as exc:
            limit = _batch_limit(exc)
            if limit is not None and limit < len(batch):
                self.batch_size = limit
                return None
            raise ClassifyError.of(exc, model_name=self.model_name, version=self.version) from exc
        predictions = answer.get("predictions") or []
        if len(predictions) != len(batch):
            raise ClassifyError(
                "bad_answer", f"the model API could not label the texts ({len(predictions)} labels for {len(batch)})"
            )
        self.answered_version = self.answered_version or str(answer["model_version"])
        self.latencies_ms.append(float(answer.get("latency_ms", 0.0)) / len(batch))
        return [str(prediction["label"]) for prediction in predictions]
