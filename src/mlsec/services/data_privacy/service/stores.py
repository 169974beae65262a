"""The platform's stores of personal data, asked through their APIs (the SDK), never through their databases:
the training service's dataset versions, and the prediction logs of the model API and the model cache.

Every question goes to every store at once; a store that cannot be reached is reported as such, with the
others' answers kept (an erasure is then `partial` and may be repeated: each store's erase is idempotent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mlsec.client.base import ServiceCallError
from mlsec.services.data_privacy.state import Privacy

PREDICTION_LOG_STORES = ("model-api", "model-cache")
DATASET_STORE = "training"
STORES = (DATASET_STORE, *PREDICTION_LOG_STORES)
CHUNK = 10_000  # the stores' limit of hashes per call


@dataclass(frozen=True)
class Answer:
    """One store's answer, or why there is none."""

    store: str
    body: dict[str, Any] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {"store": self.store, "ok": self.ok, "answer": self.body, "error": self.error}


async def _ask(store: str, call: Callable[[], Awaitable[dict[str, Any]]]) -> Answer:
    try:
        return Answer(store, await call())
    except ServiceCallError as exc:
        return Answer(store, None, f"{exc.error_type}: {str(exc)[:300]}")


def _chunks(values: Sequence[str]) -> list[list[str]]:
    return [list(values[i : i + CHUNK]) for i in range(0, len(values), CHUNK)] or [[]]


def _merge(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Chunked answers summed (counts) and concatenated (lists)."""
    merged: dict[str, Any] = {}
    for answer in answers:
        for key, value in answer.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, list)):
                merged.setdefault(key, value)
            elif isinstance(value, list):
                merged[key] = [*merged.get(key, []), *value]
            else:
                merged[key] = merged.get(key, 0) + value
    return merged


async def subjects(privacy: Privacy, hashes: Sequence[str], *, erase: bool, retrain: bool) -> dict[str, Answer]:
    """Where these hashes are (and, with `erase`, their removal) in every store."""
    sdk = privacy.sdk

    async def training() -> dict[str, Any]:
        parts = [await sdk.training.privacy_subjects(c, erase=erase, retrain=retrain) for c in _chunks(hashes)]
        return _merge(parts)

    def serving(store: str) -> Callable[[], Awaitable[dict[str, Any]]]:
        client = sdk.model_api if store == "model-api" else sdk.model_cache

        async def call() -> dict[str, Any]:
            return _merge([await client.privacy_subjects(c, erase=erase) for c in _chunks(hashes)])

        return call

    if not hashes:
        return {}
    calls = [_ask(DATASET_STORE, training), *(_ask(s, serving(s)) for s in PREDICTION_LOG_STORES)]
    return {answer.store: answer for answer in await asyncio.gather(*calls)}


async def retention(privacy: Privacy, category: str, older_than: datetime, *, dry_run: bool) -> list[Answer]:
    """What a category's stores hold from before `older_than` (and, unless `dry_run`, its deletion)."""
    sdk = privacy.sdk
    if category == "datasets":
        return [await _ask(DATASET_STORE, lambda: sdk.training.privacy_retention(older_than, dry_run=dry_run))]
    return list(
        await asyncio.gather(
            _ask("model-api", lambda: sdk.model_api.privacy_retention(older_than, dry_run=dry_run)),
            _ask("model-cache", lambda: sdk.model_cache.privacy_retention(older_than, dry_run=dry_run)),
        )
    )


async def status(privacy: Privacy) -> dict[str, Answer]:
    """Each store's own account of the personal data it keeps."""
    sdk = privacy.sdk
    answers = await asyncio.gather(
        _ask(DATASET_STORE, sdk.training.get_privacy_status),
        _ask("model-api", sdk.model_api.get_privacy_status),
        _ask("model-cache", sdk.model_cache.get_privacy_status),
    )
    return {answer.store: answer for answer in answers}
