"""Prediction-log records: built cheaply on the request path, completed off it.

The request path only queues the text, the prediction and timings. The log writer then computes,
in a thread and vectorised over the batch, what analytics needs for drift: the text's numeric
features (length, character classes, ...) and its hash; the raw text is kept only when the
service is configured to store it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from mlsec.ml.profile import text_features
from mlsec.serving.model import LoadedModel, Prediction


def queued_records(
    model: LoadedModel,
    items: Sequence[Any],
    predictions: Sequence[Prediction],
    *,
    latency_ms: float,
    request_id: str | None,
    source: str,
) -> list[dict[str, Any]]:
    """One record per prediction, as little work as possible."""
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
            "source": source,
            "input": item,
        }
        for item, p in zip(items, predictions, strict=True)
    ]


def _fingerprint(item: Any) -> str:
    raw = item if isinstance(item, str) else json.dumps(item, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8", errors="replace")).hexdigest()


def completer(*, store_text: bool) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """The log writer's `prepare` step: features, hash, and the text only when allowed."""

    def complete(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        texts = [r["input"] for r in records if isinstance(r["input"], str)]
        features = text_features(texts) if texts else {}
        rows, index = [], 0
        for record in records:
            item = record.pop("input")
            row = {**record, "input_sha256": _fingerprint(item)}
            if isinstance(item, str):
                row["features"] = {name: float(values[index]) for name, values in features.items()}
                row["text"] = item if store_text else None
                index += 1
            else:
                row["features"] = {k: v for k, v in item.items() if isinstance(v, int | float | str | bool | None)}
                row["text"] = None
            if row["score"] is not None:
                row["features"]["score"] = row["score"]
            rows.append(row)
        return rows

    return complete
