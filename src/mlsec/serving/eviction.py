"""Taking models out of a repository: evicting them under its policy (least recently used first over the
memory budget, idle ones after the idle TTL) and retiring them once their requests are done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from mlsec.serving.entry import Entry, retrieve
from mlsec.serving.policy import ServingPolicy
from mlsec.serving.reports import Reporting


class Eviction(Reporting):
    """Eviction and retirement of a repository's entries."""

    _background: set[asyncio.Task[Any]]

    @property
    def policy(self) -> ServingPolicy:
        return self._policy

    def set_policy(self, policy: ServingPolicy) -> None:
        """Replace the policy; a smaller budget or a shorter TTL evicts at once."""
        self._policy = policy
        self._evict(self._idle_victims(), reason="idle")
        self._evict(self._budget_victims(keep=None), reason="memory budget")

    def _forget(self, entry: Entry) -> None:
        """Take an entry out of service (new requests no longer find it) and drop its alias bindings."""
        self._remove(entry)
        for binding, version in list(self._bindings.items()):
            if binding[0] == entry.name and version == entry.version:
                del self._bindings[binding]

    async def _retire(self, entry: Entry) -> None:
        """Wait for the entry's requests to finish, then close its batcher."""
        await entry.quiet.wait()
        if entry.batcher is not None:
            await entry.batcher.drain()
            await entry.batcher.close()

    def _evictable(self, entry: Entry, keep: Entry | None) -> bool:
        return entry is not keep and entry.inflight == 0 and not (entry.batcher is not None and entry.batcher.busy)

    def _budget_victims(self, keep: Entry | None) -> list[Entry]:
        """Least recently used first, until the rest fits the budget; models in flight are skipped."""
        budget = self._policy.memory_budget_bytes
        used = self._memory_used()
        if budget is None or used <= budget:
            return []
        victims: list[Entry] = []
        for entry in sorted(self._ready_entries(), key=lambda e: e.last_used):
            if used <= budget:
                break
            if self._evictable(entry, keep):
                victims.append(entry)
                used -= entry.model.size_bytes if entry.model is not None else 0
        return victims

    def _idle_victims(self) -> list[Entry]:
        ttl = self._policy.idle_ttl_seconds
        if ttl is None:
            return []
        cutoff = time.monotonic() - ttl
        return [e for e in self._ready_entries() if e.last_used <= cutoff and self._evictable(e, None)]

    def _evict(self, victims: list[Entry], *, reason: str) -> None:
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

    def _remove(self, entry: Entry) -> None:
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
        task.add_done_callback(retrieve)
