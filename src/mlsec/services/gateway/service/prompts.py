"""Prompts anonymized before they reach a model (MLSEC_GATEWAY_ANONYMIZE_PROMPTS, off by default).

When on, every text a prediction request carries to the model API or the model cache, through the unified
`/predict` routes or a forwarded one (`/api/model-api/predict`, `/predict/batch`, the V2 `infer` and MLflow's
`/invocations`), has its personal data replaced by its type (`<EMAIL_ADDRESS>`, mlsec.ml.pii's `replace`
operator) first: the model, its service and the prediction log never see the values. A classifier of attacks
needs the shape of a prompt, not whose address is in it. When off, nothing is built and nothing is scanned.

The scan is pure CPU (tens of microseconds for a short prompt, more with phone-number candidates), so it runs in
a worker thread, off the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from mlsec.client import Endpoint
from mlsec.ml.pii.anonymize import Anonymizer
from mlsec.ml.pii.engine import PiiEngine

SERVING_SERVICES = frozenset({"model-api", "model-cache"})
_INVOCATION_INPUTS = ("inputs", "instances", "dataframe_records")
Rewrite = Callable[[str], str]


class PromptAnonymizer:
    """Replaces personal data in prediction texts by its type; one per gateway, shared by every request."""

    def __init__(self, engine: PiiEngine | None = None):
        self.engine = engine or PiiEngine()
        self.anonymizer = Anonymizer()

    def anonymize(self, text: str) -> str:
        """`text` with every finding replaced by `<TYPE>` (unchanged when there is none)."""
        findings = self.engine.scan(text)
        return self.anonymizer.anonymize(text, findings, "replace").text if findings else text

    async def text(self, text: str) -> str:
        return await anyio.to_thread.run_sync(self.anonymize, text)

    async def texts(self, texts: Sequence[str]) -> list[str]:
        return await anyio.to_thread.run_sync(lambda: [self.anonymize(text) for text in texts])

    @staticmethod
    def covers(service: str, route: Endpoint) -> bool:
        """Whether a forwarded route carries prompts to a model: a prediction route of a serving service."""
        return service in SERVING_SERVICES and route.operation == "prediction"

    async def body(self, route: Endpoint, body: bytes) -> bytes:
        """A forwarded prediction body with its texts anonymized; a body that is not JSON goes on unchanged (the
        service refuses it as it would have)."""
        return await anyio.to_thread.run_sync(self._rewrite_body, route, body)

    def _rewrite_body(self, route: Endpoint, body: bytes) -> bytes:
        try:
            payload = json.loads(body)
        except ValueError:
            return body
        if not isinstance(payload, dict):
            return body
        rewrite_payload(route.path, payload, self.anonymize)
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def rewrite_payload(path: str, payload: dict[str, Any], rewrite: Rewrite) -> None:
    """Apply `rewrite` to the texts of a serving service's prediction request, in place, by its protocol:
    `text` (/predict), `texts` (/predict/batch), the data of BYTES tensors (V2 infer), every string of the
    inputs of MLflow's `/invocations`. The feature rows of /predict and /predict/batch are not texts and stay."""
    if path == "/predict":
        if isinstance(payload.get("text"), str):
            payload["text"] = rewrite(payload["text"])
    elif path == "/predict/batch":
        if isinstance(payload.get("texts"), list):
            payload["texts"] = _strings(payload["texts"], rewrite)
    elif path.endswith("/infer"):
        for tensor in payload.get("inputs") or ():
            if isinstance(tensor, dict) and tensor.get("datatype") == "BYTES" and "data" in tensor:
                tensor["data"] = _strings(tensor["data"], rewrite)
    elif path == "/invocations":
        for key in _INVOCATION_INPUTS:
            if key in payload:
                payload[key] = _strings(payload[key], rewrite)
        split = payload.get("dataframe_split")
        if isinstance(split, dict) and "data" in split:
            split["data"] = _strings(split["data"], rewrite)


def _strings(value: Any, rewrite: Rewrite) -> Any:
    """Every string in a JSON value rewritten (in lists and as values of objects; keys are column names)."""
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, list):
        return [_strings(item, rewrite) for item in value]
    if isinstance(value, dict):
        return {key: _strings(item, rewrite) for key, item in value.items()}
    return value
