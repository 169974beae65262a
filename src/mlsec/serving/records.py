"""Prediction-log records: built cheaply on the request path, completed off it.

The request path only queues the text, the prediction and timings (and a reference to the model's
projector). The log writer then computes, in a thread and vectorised over the batch, what analytics
needs for drift: the text's numeric features (length, character classes, ...), its hash, and for a
sample of the texts the projection of the model's own features (`proj_*`, mlsec.ml.projection); the text
is kept only when the service is configured to store it, and then through `anonymize` (mlsec.serving.privacy:
personal data replaced by `<TYPE:keyed hash>`), so the log never holds raw PII unless that is turned off. The
scan runs here, in the writer's thread, so it costs a prediction nothing.

Why a sample: the projection runs the model's feature extraction again, about what a prediction costs
(0.3 ms for a text of 800 characters, compiled), while the reference it is compared against holds 1,000
values per feature; a quarter of a busy window is as good a test and a quarter of the cost. The sample is
chosen by the text's hash, so the same text is always in it or always out, and tests are reproducible.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from mlsec.ml.profile import text_features
from mlsec.ml.projection import TextProjector
from mlsec.serving.model import LoadedModel, Prediction

logger = logging.getLogger("mlsec.serving.records")
_HASH_SPACE = 16**8  # the first 8 hex digits of the input's SHA-256 place it in the sample or not


def queued_records(
    model: LoadedModel,
    items: Sequence[Any],
    predictions: Sequence[Prediction],
    *,
    latency_ms: float,
    request_id: str | None,
    source: str,
    trace_id: str | None = None,
    traffic_class: str,
) -> list[dict[str, Any]]:
    """One record per prediction, as little work as possible; `trace_id` links each to the request's trace."""
    now = datetime.now(UTC)
    per_item = latency_ms / max(1, len(predictions))
    return [
        {
            "created_at": now,
            "model_name": model.name,
            "model_version": model.version,
            "label": str(p.label),
            "score": p.score,
            "latency_ms": per_item,
            "request_id": request_id,
            "trace_id": trace_id,
            "source": source,
            "traffic_class": traffic_class,
            "input": item,
            "projector": model.projector,
        }
        for item, p in zip(items, predictions, strict=True)
    ]


def _fingerprint(item: Any) -> str:
    raw = item if isinstance(item, str) else json.dumps(item, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8", errors="replace")).hexdigest()


def sampled(fingerprint: str, fraction: float) -> bool:
    """Whether an input with this SHA-256 (hex) is in the projection sample: deterministic per input."""
    return int(fingerprint[:8], 16) < fraction * _HASH_SPACE


def _projections(
    items: list[Any], fingerprints: list[str], projectors: list[TextProjector | None], fraction: float
) -> dict[int, dict[str, float]]:
    """proj_* of the sampled texts, by record position: one vectorised call per projector (model version) in
    the batch. A projector that fails costs its records their proj_* values, never the batch (logged)."""
    groups: dict[int, tuple[TextProjector, list[int]]] = {}
    for position, (item, fingerprint, projector) in enumerate(zip(items, fingerprints, projectors, strict=True)):
        if projector is not None and isinstance(item, str) and sampled(fingerprint, fraction):
            groups.setdefault(id(projector), (projector, []))[1].append(position)
    out: dict[int, dict[str, float]] = {}
    for projector, positions in groups.values():
        try:
            columns = projector.project([items[position] for position in positions])
        except Exception as exc:
            logger.warning(  # the type only: a message could quote the input, which the log must not hold
                "prediction_log.projection_failed",
                extra={"records": len(positions), "error_type": type(exc).__name__},
            )
            continue
        for index, position in enumerate(positions):
            out[position] = {name: float(values[index]) for name, values in columns.items()}
    return out


def completer(
    *, store_text: bool, projection_fraction: float = 0.0, anonymize: Callable[[str], str] | None = None
) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """The log writer's `prepare` step: features, hash, the text only when allowed (through `anonymize` when
    given: what is stored, never the raw text), and proj_* for the `projection_fraction` of texts (by hash)
    whose model has a projector. Features and the hash are of the text as asked, so drift sees the real input."""

    def stored(text: str) -> str | None:
        if not store_text:
            return None
        if anonymize is None:
            return text
        try:
            return anonymize(text)
        except Exception as exc:  # no text rather than the raw one; the type only, as for a projection
            logger.warning("prediction_log.anonymize_failed", extra={"error_type": type(exc).__name__})
            return None

    def complete(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items = [record.pop("input") for record in records]
        projectors = [record.pop("projector", None) for record in records]
        fingerprints = [_fingerprint(item) for item in items]
        texts = [item for item in items if isinstance(item, str)]
        features = text_features(texts) if texts else {}
        projected = _projections(items, fingerprints, projectors, projection_fraction) if projection_fraction else {}
        rows, index = [], 0
        for position, (record, item) in enumerate(zip(records, items, strict=True)):
            row = {**record, "input_sha256": fingerprints[position]}
            if isinstance(item, str):
                row["features"] = {name: float(values[index]) for name, values in features.items()}
                row["features"].update(projected.get(position, {}))
                row["text"] = stored(item)
                index += 1
            else:
                row["features"] = {k: v for k, v in item.items() if isinstance(v, int | float | str | bool | None)}
                row["text"] = None
            if row["score"] is not None:
                row["features"]["score"] = row["score"]
            rows.append(row)
        return rows

    return complete
