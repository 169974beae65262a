"""The registry cache: the snapshot every answer reads, how fresh it is, and the work that keeps it fresh.

- At start the snapshot file is loaded (a whole file or nothing), so the service answers at once; it is marked
  stale until MLflow confirms it.
- A full refresh reads MLflow in bulk every CACHE_REFRESH_INTERVAL_MINUTES, bounded by CACHE_TIMEOUT_SECONDS, and
  replaces the snapshot whole, then the file (atomically).
- An event that says a model changed (a version registered, an alias moved) refreshes that model alone at once.
- When MLflow cannot be read, the last snapshot keeps being served, marked stale with the reason and its age.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio

from mlsec.core.background import Periodic
from mlsec.services.control_tower.errors import RegistryUnavailableError
from mlsec.services.control_tower.service import snapshot as files
from mlsec.services.control_tower.service.reader import RegistryReader
from mlsec.services.control_tower.service.snapshot import Snapshot
from mlsec.services.control_tower.settings import ControlTowerSettings

logger = logging.getLogger("mlsec.control_tower.cache")
Source = str  # "none", "file" or "mlflow"


@dataclass(frozen=True)
class Freshness:
    """How far an answer can be trusted: stale, why, and how old its snapshot is."""

    stale: bool
    reason: str | None
    age_seconds: float | None


def _error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutError: MLflow did not answer within CACHE_TIMEOUT_SECONDS"
    return f"{type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")


class RegistryCache:
    """Holds the current snapshot; `on_change` runs after each new one is installed (views are rebuilt then)."""

    def __init__(
        self,
        reader: RegistryReader,
        settings: ControlTowerSettings,
        *,
        path: Path | None,
        on_change: Callable[[Snapshot], None] = lambda snapshot: None,
    ):
        self.reader = reader
        self.settings = settings
        self.path = path  # None: persistence off
        self.on_change = on_change
        self.snapshot: Snapshot | None = None
        self.source: Source = "none"
        self.last_error: str | None = None
        self.failing_since: datetime | None = None
        self.confirmed_at: datetime | None = None  # when MLflow last answered this process
        self.is_refreshing = False
        self.event_refreshes = 0
        self.last_event_refresh_seconds: float | None = None
        self._lock = asyncio.Lock()
        interval = settings.cache_refresh_interval_minutes * 60
        self._periodic = Periodic("control-tower-refresh", self.refresh_quietly, interval=interval)

    # --- lifecycle ----------------------------------------------------------------------------------------

    def load_file(self) -> bool:
        """Install the snapshot kept on disk, if there is a whole one for this MLflow; whether one was."""
        if self.path is None:
            return False
        if removed := files.remove_leftovers(self.path):
            logger.info("snapshot.leftovers_removed", extra={"count": removed})
        kept = files.load(self.path)
        if kept is None:
            return False
        if kept.tracking_uri != self.reader.tracking_uri:
            logger.warning("snapshot.other_mlflow", extra={"path": str(self.path)})
            return False
        self._install(kept, source="file")
        logger.info("snapshot.loaded", extra={"versions": len(kept.versions()), "age_seconds": kept.age_seconds()})
        return True

    def start(self) -> None:
        """Refresh on the schedule; the first refresh is the caller's (a start-up task)."""
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    # --- reads --------------------------------------------------------------------------------------------

    def current(self) -> Snapshot:
        """The snapshot answers come from; 503 while there is none (never read, no file)."""
        if self.snapshot is None:
            raise RegistryUnavailableError(self.last_error or "MLflow has not been read yet")
        return self.snapshot

    def freshness(self, now: datetime | None = None) -> Freshness:
        snapshot = self.snapshot
        if snapshot is None:
            return Freshness(True, self.last_error or "not read yet", None)
        age = snapshot.age_seconds(now)
        if self.last_error is not None:
            since = self.failing_since.isoformat(timespec="seconds") if self.failing_since else "now"
            return Freshness(True, f"MLflow unreachable since {since} ({self.last_error})", age)
        if self.source == "file":
            return Freshness(True, "loaded from the cache file, not yet confirmed by MLflow", age)
        if age > 2 * self._periodic.interval + 60:
            return Freshness(True, "older than two refresh intervals", age)
        return Freshness(False, None, age)

    @property
    def mlflow_connected(self) -> bool:
        return self.last_error is None and self.confirmed_at is not None

    # --- refreshes ----------------------------------------------------------------------------------------

    async def refresh(self) -> Snapshot:
        """Read all of MLflow now and install it; RegistryUnavailableError (503) when MLflow cannot be read (the
        last snapshot stays)."""
        async with self._lock:
            self.is_refreshing = True
            try:
                with anyio.fail_after(self.settings.cache_timeout_seconds):
                    fresh = await self.reader.read_all()
            except Exception as exc:
                self._failed(exc)
                raise RegistryUnavailableError(self.last_error or "MLflow cannot be read") from exc
            finally:
                self.is_refreshing = False
            self._install(fresh, source="mlflow")
            await self._persist(fresh)
            logger.info(
                "snapshot.refreshed", extra={"versions": len(fresh.versions()), "seconds": fresh.refresh_seconds}
            )
            return fresh

    async def refresh_quietly(self) -> None:
        with contextlib.suppress(RegistryUnavailableError):
            await self.refresh()

    async def refresh_model(self, name: str) -> None:
        """Re-read one model (its versions, aliases and runs) and install a snapshot with it replaced; without a
        snapshot yet, a full refresh instead. Failures are recorded like a full refresh's."""
        if self.snapshot is None:
            await self.refresh_quietly()
            return
        started = time.perf_counter()
        async with self._lock:
            base = self.current()
            try:
                with anyio.fail_after(self.settings.cache_timeout_seconds):
                    model = await self.reader.read_model(name, base.runs)
                    runs = dict(base.runs)
                    for version in model.versions if model else ():
                        if version.run_id and (version.run_id not in runs or runs[version.run_id].status == "RUNNING"):
                            runs[version.run_id] = await self.reader.read_run(version.run_id)
            except Exception as exc:
                self._failed(exc)
                return
            models = dict(base.models)
            if model is None:
                models.pop(name, None)
            else:
                models[name] = model
            fresh = base.model_copy(update={"models": models, "runs": runs, "taken_at": base.taken_at})
            self._install(fresh, source=self.source if self.source != "none" else "mlflow", confirm=False)
            await self._persist(fresh)
        self.event_refreshes += 1
        self.last_event_refresh_seconds = round(time.perf_counter() - started, 4)
        logger.info("snapshot.model_refreshed", extra={"model_name": name, "seconds": self.last_event_refresh_seconds})

    def clear_file(self) -> bool:
        """Delete the snapshot file (the next start reads MLflow); whether there was one."""
        if self.path is None or not self.path.exists():
            return False
        self.path.unlink(missing_ok=True)
        return True

    def file_stats(self) -> tuple[bool, float | None, int | None]:
        """Whether the file exists, its age in hours and its size in bytes."""
        if self.path is None:
            return False, None, None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return False, None, None
        return True, round((time.time() - stat.st_mtime) / 3600, 4), stat.st_size

    # --- internals ----------------------------------------------------------------------------------------

    def _install(self, snapshot: Snapshot, *, source: Source, confirm: bool = True) -> None:
        self.snapshot = snapshot
        self.source = source
        if source == "mlflow" and confirm:
            self.confirmed_at = datetime.now(UTC)
            self.last_error = None
            self.failing_since = None
        self.on_change(snapshot)

    def _failed(self, exc: BaseException) -> None:
        if self.last_error is None:
            self.failing_since = datetime.now(UTC)
        self.last_error = _error(exc)
        logger.warning("snapshot.refresh_failed", extra={"error": self.last_error})

    async def _persist(self, snapshot: Snapshot) -> None:
        if self.path is None:
            return
        try:
            await anyio.to_thread.run_sync(files.save, snapshot, self.path)
        except OSError as exc:  # a full disk must not stop the answers; the file stays as it was
            logger.warning("snapshot.save_failed", extra={"path": str(self.path), "error_type": type(exc).__name__})
