"""Handing a request its model version: the alias resolved (once, then bound), the version loaded (once,
however many requests wait for it), the entry counted in flight until the request releases it."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from mlsec.serving.batcher import BatchMetrics, MicroBatcher
from mlsec.serving.entry import Entry, isolating, retrieve
from mlsec.serving.eviction import Eviction
from mlsec.serving.loader import load_model
from mlsec.serving.model import LoadedModel
from mlsec.serving.registry import resolve_version

T = TypeVar("T")


class Acquiring(Eviction):
    """Resolving, loading and acquiring a repository's entries."""

    tracking_uri: str
    default_alias: str
    max_batch: int
    max_wait: float
    compile_text: bool
    projection: bool
    _metrics: BatchMetrics
    _limiter: anyio.CapacityLimiter
    _resolving: dict[tuple[str, str], asyncio.Task[str]]

    async def _acquire(self, name: str, version: str | None, *, request: bool = True) -> Entry:
        resolved, explicit = await self._resolve(name, version)
        return await self._acquire_version(name, resolved, explicit=explicit, request=request)

    async def _acquire_version(self, name: str, version: str, *, explicit: bool, request: bool) -> Entry:
        """The entry of a resolved version, loaded (waiting for or starting its load), counted in flight."""
        entry = self._entries.get((name, version))
        hit = entry is not None and entry.model is not None
        if entry is None:
            entry = self._start_load(name, version)
        entry.explicit = entry.explicit or explicit
        entry.inflight += 1
        entry.quiet.clear()
        entry.last_used = time.monotonic()
        if request:
            entry.requests += 1
            entry.last_used_at = datetime.now(UTC)
            self._counts["hits" if hit else "misses"] += 1
            entry.hits += hit
        if entry.model is None:
            assert entry.load is not None
            try:
                await asyncio.shield(entry.load)
            except BaseException:
                self._release(entry)
                raise
        return entry

    def _release(self, entry: Entry) -> None:
        entry.inflight -= 1
        if entry.inflight <= 0:
            entry.inflight = 0
            entry.quiet.set()

    @staticmethod
    def _ready(entry: Entry) -> tuple[LoadedModel, MicroBatcher]:
        assert entry.model is not None, "acquired entries are loaded"
        assert entry.batcher is not None, "a loaded entry has a batcher"
        return entry.model, entry.batcher

    def _start_load(self, name: str, version: str) -> Entry:
        entry = Entry(name=name, version=version, last_used=time.monotonic())
        self._entries[entry.key] = entry
        entry.load = asyncio.get_running_loop().create_task(self._load(entry), name=f"load:{name}:{version}")
        entry.load.add_done_callback(retrieve)
        return entry

    async def _load(self, entry: Entry) -> None:
        try:
            model = await self._in_thread(
                functools.partial(load_model, compile_text=self.compile_text, projection=self.projection),
                self.tracking_uri,
                entry.name,
                entry.version,
            )
        except Exception as exc:
            if self._entries.get(entry.key) is entry:
                del self._entries[entry.key]
            self._counts["load_failures"] += 1
            self._emit("load_failed", entry.name, entry.version, {"error": str(exc)})
            raise
        entry.model = model
        entry.batcher = MicroBatcher(
            isolating(model),
            label=f"{entry.name}:{entry.version}",
            max_batch=self.max_batch,
            max_wait=self.max_wait,
            limiter=self._limiter,
            metrics=self._metrics,
        )
        self._counts["loads"] += 1
        self._emit(
            "loaded",
            entry.name,
            entry.version,
            {
                "size_bytes": model.size_bytes,
                "load_seconds": round(model.load_seconds, 4),
                "task": model.task,
                "inference": model.inference,
                **({"inference_note": model.inference_note} if model.inference_note else {}),
            },
        )
        self._evict(self._budget_victims(keep=entry), reason="memory budget")

    async def _resolve(self, name: str, version: str | None) -> tuple[str, bool]:
        """(version number, whether it was asked for by number). Alias bindings are cached; a number is
        checked against MLflow only when it is not loaded."""
        if version is not None and version.isdigit():
            if (name, version) not in self._entries:
                await self._resolve_remote(name, version)
            return version, True
        alias = version or self.default_alias
        bound = self._bindings.get((name, alias))
        if bound is None:
            resolved = await self._resolve_remote(name, alias)
            bound = self._bindings.setdefault((name, alias), resolved)
        return bound, False

    async def _resolve_remote(self, name: str, reference: str) -> str:
        """resolve_version in a thread, one call at a time per (name, reference)."""
        key = (name, reference)
        task = self._resolving.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._in_thread(resolve_version, self.tracking_uri, name, reference)
            )
            self._resolving[key] = task
            task.add_done_callback(functools.partial(self._resolved, key))
            task.add_done_callback(retrieve)
        return await asyncio.shield(task)

    def _resolved(self, key: tuple[str, str], task: asyncio.Task[str]) -> None:
        if self._resolving.get(key) is task:
            del self._resolving[key]

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args))
