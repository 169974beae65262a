"""The loaded models of one service: on-demand loading, alias bindings, eviction and hot swap.

Both serving services use this class; they differ only in their ServingPolicy (the model API loads on
demand and never evicts, the model cache preloads every champion and evicts least-recently-used models
over a memory budget). All state lives on the event loop; every blocking MLflow call and every
prediction runs in a worker thread.

The class is built in layers, one module each: mlsec.serving.reports (events, loaded models, counters),
mlsec.serving.eviction (eviction and retirement), mlsec.serving.acquire (resolving, loading, in-flight
counts) and mlsec.serving.hot_swap (alias refresh); this module holds its lifecycle and what requests call.

Concurrency rules that the code relies on:
- A request takes its model entry and counts itself in flight in one step with no await in between, so
  an entry with nothing in flight can be evicted or retired without racing a request.
- An entry is created before its model is loaded; concurrent requests for it wait on the same load.
- A swap loads the new version while requests still go to the old one, rebinds the alias in one step,
  then waits until the old version's requests are done before closing it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio
from prometheus_client import CollectorRegistry

from mlsec.serving.batcher import BatchMetrics
from mlsec.serving.entry import Entry, check_items, version_order
from mlsec.serving.errors import NotLoadedError
from mlsec.serving.hot_swap import HotSwap
from mlsec.serving.model import LoadedModel, Prediction
from mlsec.serving.policy import ServingPolicy
from mlsec.serving.reports import ServingEvent

logger = logging.getLogger("mlsec.serving.repository")
MAX_MAINTENANCE_TICK = 1.0  # seconds: how soon the maintenance loop notices a policy change


class ModelRepository(HotSwap):
    """The models one service serves; see the module docstring."""

    def __init__(
        self,
        tracking_uri: str,
        *,
        policy: ServingPolicy,
        registry: CollectorRegistry,
        max_batch: int = 64,
        max_wait: float = 0.002,
        alias_poll_seconds: float = 5.0,
        default_alias: str = "champion",
        threads: int = 2,
        compile_text: bool = True,
        projection: bool = True,
        on_event: Callable[[ServingEvent], None] | None = None,
    ):
        self.tracking_uri = tracking_uri
        self._policy = policy
        self._metrics = BatchMetrics(registry)
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.alias_poll_seconds = alias_poll_seconds
        self.default_alias = default_alias
        self._limiter = anyio.CapacityLimiter(threads)
        self.compile_text = compile_text
        self.projection = projection  # load text models' drift projections (for the log writer)
        self._on_event = on_event
        self._entries: dict[tuple[str, str], Entry] = {}
        self._bindings: dict[tuple[str, str], str] = {}  # (name, alias) -> version
        self._resolving: dict[tuple[str, str], asyncio.Task[str]] = {}
        self._refresh_lock = asyncio.Lock()
        self._maintenance: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._counts = dict.fromkeys(("hits", "misses", "evictions", "loads", "load_failures", "swaps"), 0)

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start maintenance (evictions, alias refresh). What to load ahead of requests is mlsec.serving.preload's
        job."""
        if self._maintenance is None:
            self._maintenance = asyncio.get_running_loop().create_task(self._maintain(), name="serving-maintenance")

    def is_bound(self, name: str, alias: str | None = None) -> bool:
        """Whether an alias of `name` (default: the default alias) is bound here: loaded once, or being loaded."""
        return (name, alias or self.default_alias) in self._bindings

    def unbind(self, name: str, alias: str | None = None) -> None:
        """Forget where an alias points (the next use asks MLflow again); loaded versions stay as they are."""
        self._bindings.pop((name, alias or self.default_alias), None)

    async def close(self) -> None:
        """Stop maintenance and every batcher. A load in progress cannot be interrupted inside its thread: it
        is cancelled, waited for and discarded."""
        tasks: list[asyncio.Task[Any]] = [*self._resolving.values(), *self._background]
        if self._maintenance is not None:
            tasks.append(self._maintenance)
            self._maintenance = None
        tasks.extend(entry.load for entry in self._entries.values() if entry.load is not None and not entry.load.done())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        entries = list(self._entries.values())
        self._entries.clear()
        self._bindings.clear()
        for entry in entries:
            if entry.batcher is not None:
                await entry.batcher.close()

    # --- requests ------------------------------------------------------------------------------------

    async def predict_one(self, name: str, item: Any, *, version: str | None = None) -> tuple[LoadedModel, Prediction]:
        """Predict one input (a str for text models, a mapping for tabular ones), micro-batched."""
        entry = await self._acquire(name, version)
        try:
            model, batcher = self._ready(entry)
            check_items(model, [item])
            return model, await batcher.submit(item)
        finally:
            self._release(entry)

    async def predict_many(
        self, name: str, items: Sequence[Any], *, version: str | None = None
    ) -> tuple[LoadedModel, list[Prediction]]:
        """Predict a caller's batch in vectorised chunks, without waiting for other requests."""
        entry = await self._acquire(name, version)
        try:
            model, batcher = self._ready(entry)
            check_items(model, items)
            return model, await batcher.submit_many(items)
        finally:
            self._release(entry)

    async def load(self, name: str, version: str | None = None) -> LoadedModel:
        """Load a version (None: the default alias) unless it is loaded; not counted as a request."""
        entry = await self._acquire(name, version, request=False)
        self._release(entry)
        model, _ = self._ready(entry)
        return model

    async def unload(self, name: str, version: str | None = None) -> list[str]:
        """Unload one version (a number, or an alias bound here), or every version of `name` (None), after
        their requests finish. Returns the versions unloaded."""
        if version is None:
            targets = [entry for entry in self._entries.values() if entry.name == name and entry.model is not None]
            what = ""
        else:
            number = version if version.isdigit() else self._bindings.get((name, version))
            entry = self._entries.get((name, number)) if number is not None else None
            targets = [entry] if entry is not None and entry.model is not None else []
            what = f" version {version}" if version.isdigit() else f" alias {version!r}"
        if not targets:
            raise NotLoadedError(f"Model {name!r}{what} is not loaded.")
        for entry in targets:
            self._forget(entry)
        for entry in targets:
            await self._retire(entry)
            self._emit("unloaded", entry.name, entry.version, {"reason": "requested"})
        return sorted((entry.version for entry in targets), key=version_order)

    async def clear(self) -> list[tuple[str, str]]:
        """Unload everything loaded; returns (name, version) pairs."""
        targets = [entry for entry in self._entries.values() if entry.model is not None]
        for entry in targets:
            self._forget(entry)
        for entry in targets:
            await self._retire(entry)
            self._emit("unloaded", entry.name, entry.version, {"reason": "cleared"})
        return sorted((entry.key for entry in targets), key=lambda key: (key[0], version_order(key[1])))

    # --- internals: maintenance ----------------------------------------------------------------------

    async def _maintain(self) -> None:
        """Idle-TTL and budget evictions every tick; alias refresh every alias_poll_seconds."""
        last_refresh = time.monotonic()
        while True:
            tick = min(self.alias_poll_seconds, MAX_MAINTENANCE_TICK)
            ttl = self._policy.idle_ttl_seconds
            if ttl is not None:
                tick = min(tick, max(ttl / 2, 0.05))
            await asyncio.sleep(tick)
            try:
                self._evict(self._idle_victims(), reason="idle")
                self._evict(self._budget_victims(keep=None), reason="memory budget")
                if time.monotonic() - last_refresh >= self.alias_poll_seconds:
                    last_refresh = time.monotonic()
                    await self.refresh_aliases()
            except Exception:
                logger.exception("serving.maintenance_failed")
