"""The loaded models of one service: on-demand loading, alias bindings, eviction and hot swap.

Both serving services use this class; they differ only in their ServingPolicy (the model API loads on
demand and never evicts, the model cache preloads every champion and evicts least-recently-used models
over a memory budget). All state lives on the event loop; every blocking MLflow call and every
prediction runs in a worker thread.

Concurrency rules that the code relies on:
- A request takes its model entry and counts itself in flight in one step with no await in between, so
  an entry with nothing in flight can be evicted or retired without racing a request.
- An entry is created before its model is loaded; concurrent requests for it wait on the same load.
- A swap loads the new version while requests still go to the old one, rebinds the alias in one step,
  then waits until the old version's requests are done before closing it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from prometheus_client import CollectorRegistry

from mlsec.serving.batcher import BatchMetrics, MicroBatcher, Outcome, PredictFn
from mlsec.serving.errors import (
    InvalidInputError,
    ModelNotFoundError,
    NotLoadedError,
    ServingError,
    VersionNotFoundError,
)
from mlsec.serving.model import LoadedModel, Prediction, load_model, resolve_version

logger = logging.getLogger("mlsec.serving.repository")
T = TypeVar("T")
MAX_MAINTENANCE_TICK = 1.0  # seconds: how soon the maintenance loop notices a policy change


@dataclass
class ServingPolicy:
    """What distinguishes one serving service from another."""

    memory_budget_bytes: int | None = None  # None: never evict for memory
    idle_ttl_seconds: float | None = None  # evict a model unused this long (None: never)
    preload: list[str] = field(default_factory=list)  # model names to load at start, at the default alias
    preload_champions: bool = False  # also every registered model that has the default alias


@dataclass(frozen=True)
class ServingEvent:
    """Something that happened to a model, for the service to log, count or persist."""

    kind: str  # "loaded" | "load_failed" | "unloaded" | "evicted" | "swapped"
    name: str
    version: str | None
    detail: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class LoadedInfo:
    """A loaded model version as the services report it."""

    name: str
    version: str
    aliases: list[str]
    size_bytes: int
    load_seconds: float
    loaded_at: datetime
    last_used_at: datetime | None
    requests: int
    task: str
    threshold: float | None
    classes: list[str]
    run_id: str | None
    inference: str  # "compiled" or "pipeline": see LoadedModel.inference


@dataclass(eq=False)
class _Entry:
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


def _isolating(model: LoadedModel) -> PredictFn:
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


def _check_items(model: LoadedModel, items: Sequence[Any]) -> None:
    if model.takes_text:
        for item in items:
            if not isinstance(item, str):
                raise InvalidInputError(
                    f"Model {model.name!r} version {model.version} takes text, not {type(item).__name__}."
                )
        return
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidInputError(
                f"Model {model.name!r} version {model.version} ({model.task}) takes records of column values, "
                f"not {type(item).__name__}."
            )


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a task's exception as seen: its awaiters got it, or nobody is left to."""
    if not task.cancelled():
        task.exception()


class ModelRepository:
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
        self._entries: dict[tuple[str, str], _Entry] = {}
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

    def report_failure(self, name: str, version: str | None, detail: dict[str, Any]) -> None:
        """A load_failed event for something found outside the repository (a preloader, say)."""
        self._emit("load_failed", name, version, detail)

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
            _check_items(model, [item])
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
            _check_items(model, items)
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
        return sorted((entry.version for entry in targets), key=_version_order)

    async def clear(self) -> list[tuple[str, str]]:
        """Unload everything loaded; returns (name, version) pairs."""
        targets = [entry for entry in self._entries.values() if entry.model is not None]
        for entry in targets:
            self._forget(entry)
        for entry in targets:
            await self._retire(entry)
            self._emit("unloaded", entry.name, entry.version, {"reason": "cleared"})
        return sorted((entry.key for entry in targets), key=lambda key: (key[0], _version_order(key[1])))

    # --- aliases -------------------------------------------------------------------------------------

    async def refresh_aliases(self) -> None:
        """Follow every alias binding in use to where MLflow now points it, swapping loaded versions."""
        async with self._refresh_lock:
            for (name, alias), old in list(self._bindings.items()):
                try:
                    new = await self._in_thread(resolve_version, self.tracking_uri, name, alias)
                except (ModelNotFoundError, VersionNotFoundError):
                    if self._bindings.get((name, alias)) == old:
                        del self._bindings[(name, alias)]
                        await self._retire_if_orphan(name, old, reason="alias removed")
                    continue
                except ServingError as exc:
                    logger.warning("serving.alias_refresh_failed", extra={"model": name, "error": str(exc)})
                    continue
                if new != old and self._bindings.get((name, alias)) == old:
                    await self._swap(name, alias, old, new)

    async def _swap(self, name: str, alias: str, old: str, new: str) -> None:
        previous = self._entries.get((name, old))
        was_loaded = previous is not None and previous.model is not None
        if was_loaded:
            # Load the new version while requests still go to the old one, which is pinned meanwhile: the
            # new version's arrival must not evict it for the memory budget while it is still the bound one.
            pinned = await self._acquire_version(name, old, explicit=False, request=False)
            try:
                entry = await self._acquire_version(name, new, explicit=False, request=False)
            except ServingError as exc:
                logger.warning("serving.swap_load_failed", extra={"model": name, "version": new, "error": str(exc)})
                return  # keep serving the old version; the next refresh tries again
            finally:
                self._release(pinned)
            self._release(entry)
        if self._bindings.get((name, alias)) != old:
            return  # rebound meanwhile (unload, clear)
        self._bindings[(name, alias)] = new
        self._counts["swaps"] += 1
        self._emit("swapped", name, new, {"alias": alias, "from": old, "to": new, "was_loaded": was_loaded})
        await self._retire_if_orphan(name, old, reason="swapped")

    async def _retire_if_orphan(self, name: str, version: str, *, reason: str) -> None:
        if any(n == name and v == version for (n, _), v in self._bindings.items()):
            return
        entry = self._entries.get((name, version))
        if entry is None or entry.model is None or entry.explicit:
            return
        self._forget(entry)
        await self._retire(entry)
        self._emit("unloaded", name, version, {"reason": reason})

    # --- policy and reporting ------------------------------------------------------------------------

    @property
    def policy(self) -> ServingPolicy:
        return self._policy

    def set_policy(self, policy: ServingPolicy) -> None:
        """Replace the policy; a smaller budget or a shorter TTL evicts at once."""
        self._policy = policy
        self._evict(self._idle_victims(), reason="idle")
        self._evict(self._budget_victims(keep=None), reason="memory budget")

    def loaded(self) -> list[LoadedInfo]:
        aliases: dict[tuple[str, str], list[str]] = {}
        for (name, alias), version in self._bindings.items():
            aliases.setdefault((name, version), []).append(alias)
        infos: list[LoadedInfo] = []
        for entry in self._ready_entries():
            model = entry.model
            assert model is not None
            infos.append(
                LoadedInfo(
                    name=entry.name,
                    version=entry.version,
                    aliases=sorted(aliases.get(entry.key, [])),
                    size_bytes=model.size_bytes,
                    load_seconds=model.load_seconds,
                    loaded_at=model.loaded_at,
                    last_used_at=entry.last_used_at,
                    requests=entry.requests,
                    task=model.task,
                    threshold=model.threshold,
                    classes=list(model.classes),
                    run_id=model.run_id,
                    inference=model.inference,
                )
            )
        return sorted(infos, key=lambda info: (info.name, _version_order(info.version)))

    def stats(self) -> dict[str, Any]:
        """Counters since start and per-model usage; times as ISO 8601 strings, so it serialises as is."""
        models: dict[str, Any] = {}
        for entry in self._ready_entries():
            assert entry.model is not None
            models[f"{entry.name}:{entry.version}"] = {
                "size_bytes": entry.model.size_bytes,
                "load_seconds": entry.model.load_seconds,
                "loaded_at": entry.model.loaded_at.isoformat(),
                "last_used_at": entry.last_used_at.isoformat() if entry.last_used_at else None,
                "requests": entry.requests,
                "hits": entry.hits,
            }
        return {
            **self._counts,
            "memory_used_bytes": self._memory_used(),
            "memory_budget_bytes": self._policy.memory_budget_bytes,
            "models": models,
        }

    # --- internals: acquiring and loading ------------------------------------------------------------

    async def _acquire(self, name: str, version: str | None, *, request: bool = True) -> _Entry:
        resolved, explicit = await self._resolve(name, version)
        return await self._acquire_version(name, resolved, explicit=explicit, request=request)

    async def _acquire_version(self, name: str, version: str, *, explicit: bool, request: bool) -> _Entry:
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

    def _release(self, entry: _Entry) -> None:
        entry.inflight -= 1
        if entry.inflight <= 0:
            entry.inflight = 0
            entry.quiet.set()

    @staticmethod
    def _ready(entry: _Entry) -> tuple[LoadedModel, MicroBatcher]:
        assert entry.model is not None, "acquired entries are loaded"
        assert entry.batcher is not None, "a loaded entry has a batcher"
        return entry.model, entry.batcher

    def _start_load(self, name: str, version: str) -> _Entry:
        entry = _Entry(name=name, version=version, last_used=time.monotonic())
        self._entries[entry.key] = entry
        entry.load = asyncio.get_running_loop().create_task(self._load(entry), name=f"load:{name}:{version}")
        entry.load.add_done_callback(_retrieve)
        return entry

    async def _load(self, entry: _Entry) -> None:
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
            _isolating(model),
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
            task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    def _resolved(self, key: tuple[str, str], task: asyncio.Task[str]) -> None:
        if self._resolving.get(key) is task:
            del self._resolving[key]

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args))

    # --- internals: unloading ------------------------------------------------------------------------

    def _forget(self, entry: _Entry) -> None:
        """Take an entry out of service (new requests no longer find it) and drop its alias bindings."""
        self._remove(entry)
        for binding, version in list(self._bindings.items()):
            if binding[0] == entry.name and version == entry.version:
                del self._bindings[binding]

    async def _retire(self, entry: _Entry) -> None:
        """Wait for the entry's requests to finish, then close its batcher."""
        await entry.quiet.wait()
        if entry.batcher is not None:
            await entry.batcher.drain()
            await entry.batcher.close()

    def _ready_entries(self) -> list[_Entry]:
        return [entry for entry in self._entries.values() if entry.model is not None]

    def _memory_used(self) -> int:
        return sum(entry.model.size_bytes for entry in self._ready_entries() if entry.model is not None)

    def _evictable(self, entry: _Entry, keep: _Entry | None) -> bool:
        return entry is not keep and entry.inflight == 0 and not (entry.batcher is not None and entry.batcher.busy)

    def _budget_victims(self, keep: _Entry | None) -> list[_Entry]:
        """Least recently used first, until the rest fits the budget; models in flight are skipped."""
        budget = self._policy.memory_budget_bytes
        used = self._memory_used()
        if budget is None or used <= budget:
            return []
        victims: list[_Entry] = []
        for entry in sorted(self._ready_entries(), key=lambda e: e.last_used):
            if used <= budget:
                break
            if self._evictable(entry, keep):
                victims.append(entry)
                used -= entry.model.size_bytes if entry.model is not None else 0
        return victims

    def _idle_victims(self) -> list[_Entry]:
        ttl = self._policy.idle_ttl_seconds
        if ttl is None:
            return []
        cutoff = time.monotonic() - ttl
        return [e for e in self._ready_entries() if e.last_used <= cutoff and self._evictable(e, None)]

    def _evict(self, victims: list[_Entry], *, reason: str) -> None:
        """Evict at once: nothing is in flight on a victim, so its batcher has nothing to finish."""
        for entry in victims:
            self._remove(entry)
            self._counts["evictions"] += 1
            assert entry.model is not None
            self._emit(
                "evicted",
                entry.name,
                entry.version,
                {
                    "reason": reason,
                    "size_bytes": entry.model.size_bytes,
                    "memory_used_bytes": self._memory_used(),
                    "memory_budget_bytes": self._policy.memory_budget_bytes,
                },
            )
            if entry.batcher is not None:
                self._spawn(entry.batcher.close())

    def _remove(self, entry: _Entry) -> None:
        """Evictions keep alias bindings: an evicted champion comes back without asking MLflow again."""
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coroutine)
        except RuntimeError:  # no running loop (set_policy from sync code): nothing of it to stop
            coroutine.close()
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_retrieve)

    # --- internals: maintenance and events -----------------------------------------------------------

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

    def _emit(self, kind: str, name: str, version: str | None, detail: dict[str, Any]) -> None:
        event = ServingEvent(kind=kind, name=name, version=version, detail=detail, at=datetime.now(UTC))
        level = logging.WARNING if kind == "load_failed" else logging.INFO
        logger.log(level, "serving.%s", kind, extra={"model": name, "version": version, **_log_safe(detail)})
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a broken listener must not break serving
                logger.exception("serving.event_listener_failed", extra={"kind": kind})


def _log_safe(detail: Mapping[str, Any]) -> dict[str, Any]:
    """LogRecord attributes may not be overwritten (e.g. "msg"), so detail keys get a prefix."""
    return {f"detail_{key}": value for key, value in detail.items()}


def _version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (0, version)
