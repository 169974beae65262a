"""Hot swap: following the aliases a repository serves to where MLflow now points them. The new version is
loaded while requests still go to the old one, the alias is rebound in one step, and the old version is
retired once its requests are done."""

from __future__ import annotations

import asyncio
import logging

from mlsec.serving.acquire import Acquiring
from mlsec.serving.errors import ModelNotFoundError, ServingError, VersionNotFoundError
from mlsec.serving.registry import resolve_version

logger = logging.getLogger("mlsec.serving.repository")


class HotSwap(Acquiring):
    """Alias refresh and swaps of a repository."""

    _refresh_lock: asyncio.Lock

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
