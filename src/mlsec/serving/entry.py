"""One (name, version) in a model repository: its entry (loading or loaded, requests in flight, usage), the
batch function its micro-batcher calls and the check of what a request hands it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlsec.serving.batcher import MicroBatcher, Outcome, PredictFn
from mlsec.serving.errors import invalid_input
from mlsec.serving.model import LoadedModel, Prediction


@dataclass(eq=False)
class Entry:
    """One (name, version): loading (model None) or loaded, with its batcher and usage."""

    name: str
    version: str
    last_used: float  # time.monotonic(), for LRU and idle TTL
    explicit: bool = False  # loaded by version number, not through an alias: a swap does not unload it
    load: asyncio.Task[None] | None = None
    model: LoadedModel | None = None
    batcher: MicroBatcher | None = None
    inflight: int = 0
    requests: int = 0
    hits: int = 0
    last_used_at: datetime | None = None
    quiet: asyncio.Event = field(default_factory=asyncio.Event)  # set while nothing is in flight

    def __post_init__(self) -> None:
        self.quiet.set()

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)


def isolating(model: LoadedModel) -> PredictFn:
    """The batch function for a model: one vectorised call; if it fails for a batch of several, each item
    again alone, so that one request's bad input fails only that request."""
    call: Callable[[list[Any]], list[Prediction]] = model.predict_texts if model.takes_text else model.predict_records

    def predict(items: list[Any]) -> Sequence[Outcome]:
        try:
            return call(items)
        except Exception:
            if len(items) == 1:
                raise
        outcomes: list[Outcome] = []
        for item in items:
            try:
                outcomes.extend(call([item]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    return predict


def check_items(model: LoadedModel, items: Sequence[Any]) -> None:
    if model.takes_text:
        for item in items:
            if not isinstance(item, str):
                raise invalid_input(
                    f"Model {model.name!r} version {model.version} takes text, not {type(item).__name__}."
                )
        return
    for item in items:
        if not isinstance(item, Mapping):
            raise invalid_input(
                f"Model {model.name!r} version {model.version} ({model.task}) takes records of column values, "
                f"not {type(item).__name__}."
            )


def retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a task's exception as seen: its awaiters got it, or nobody is left to."""
    if not task.cancelled():
        task.exception()


def version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (0, version)
