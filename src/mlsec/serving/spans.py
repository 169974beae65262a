"""The model in a trace: a `mlsec.predict` span per prediction request, with the model, its version and alias,
the traffic class, the batch size and the predicted label, and two children, `model.predict` (the model's
call, micro-batching included) and `prediction_log.record` (queueing the request's log records).

Never the text, nor anything computed from it but the label: a span is kept and shown to every operator,
longer and wider than the prediction log, which anonymizes what it keeps.

The serving hot path is benchmarked, so a request whose span is not recording (no request span, or a trace
sampled out) costs one check and no span work; spans are started with an explicit parent instead of being
made current, which saves attaching and detaching a context per span.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from mlsec.serving.model import LoadedModel, Prediction

TRACER_NAME = "mlsec.serving"
PREDICT_SPAN = "mlsec.predict"


class Traced:
    """A started span (or none), ended when the block ends, marked as an error by an exception's type (never
    its text, which may quote the input)."""

    __slots__ = ("span",)

    def __init__(self, span: Span | None):
        self.span = span

    def __enter__(self) -> Span | None:
        return self.span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.span is None:
            return
        if exc_type is not None:
            self.span.set_status(Status(StatusCode.ERROR))
            self.span.set_attribute("error.type", exc_type.__qualname__)
        self.span.end()


UNTRACED = Traced(None)


class PredictionSpans:
    """Starts the prediction spans of one serving service (its tracer, its default alias)."""

    def __init__(self, tracer: Tracer | None, *, default_alias: str):
        self.tracer = tracer
        self.default_alias = default_alias

    def prediction(self, model_name: str, version: str | None, traffic_class: str, batch_size: int) -> Traced:
        """The `mlsec.predict` span of a request asking `model_name` at `version` (None: the default alias),
        a child of the request's span; nothing when that span is not recording."""
        parent = trace.get_current_span()
        if self.tracer is None or not parent.is_recording():
            return UNTRACED
        attributes: dict[str, Any] = {
            "mlsec.model.name": model_name,
            "mlsec.traffic_class": traffic_class,
            "mlsec.batch_size": batch_size,
        }
        if version is None:
            attributes["mlsec.model.alias"] = self.default_alias
        elif not version.isdigit():
            attributes["mlsec.model.alias"] = version
        span = self.tracer.start_span(
            PREDICT_SPAN, context=trace.set_span_in_context(parent), kind=SpanKind.INTERNAL, attributes=attributes
        )
        return Traced(span)

    def child(self, parent: Span | None, name: str) -> Traced:
        """A child of the prediction span (`model.predict`, `prediction_log.record`); nothing without one."""
        if parent is None or self.tracer is None:
            return UNTRACED
        return Traced(self.tracer.start_span(name, context=trace.set_span_in_context(parent)))

    @staticmethod
    def describe(span: Span | None, model: LoadedModel, predictions: Sequence[Prediction]) -> None:
        """What the model answered: its name and version (an alias resolved), and the label, or the most frequent
        label of a batch."""
        if span is None:
            return
        span.set_attribute("mlsec.model.name", model.name)
        span.set_attribute("mlsec.model.version", model.version)
        if len(predictions) == 1:
            span.set_attribute("mlsec.prediction.label", str(predictions[0].label))
        elif predictions:
            label, _ = Counter(str(p.label) for p in predictions).most_common(1)[0]
            span.set_attribute("mlsec.prediction.label", label)
