"""A cached view of the MLflow model registry, refreshed in the background.

Listing the registry through MLflow's HTTP API costs ~170 ms for 200 models, so requests read this
snapshot and never MLflow directly; a refresh runs on a timer and after each registration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from mlsec.core.background import Periodic
from mlsec.ml.registry import stage_of
from mlsec.services.training.errors import ModelNotFoundError, RegistryUnavailableError

_RUN_ID = re.compile(r"[0-9a-f]{32}")
logger = logging.getLogger("mlsec.training.registry")


@dataclass(frozen=True)
class VersionInfo:
    version: str
    status: str
    aliases: list[str]
    run_id: str | None
    source: str | None
    created_at: datetime | None
    tags: dict[str, str]

    @property
    def stage(self) -> str:
        """The seeds' stage names, derived from the aliases MLflow now recommends (mlsec.ml.registry)."""
        return stage_of(self.aliases)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str | None
    aliases: dict[str, str]
    tags: dict[str, str]
    versions: list[VersionInfo]  # newest first
    updated_at: datetime | None

    @property
    def latest_version(self) -> str | None:
        return self.versions[0].version if self.versions else None


def _when(millis: int | None) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


def _read_registry(tracking_uri: str) -> dict[str, ModelInfo]:
    """Blocking: every registered model with its versions (run in a worker thread)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    snapshot: dict[str, ModelInfo] = {}
    for model in client.search_registered_models(max_results=1000):
        aliases = dict(getattr(model, "aliases", {}) or {})
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(str(version), []).append(alias)
        name = str(model.name).replace("'", "\\'")
        versions = [
            VersionInfo(
                version=str(v.version),
                status=str(v.status),
                aliases=sorted(by_version.get(str(v.version), [])),
                run_id=v.run_id,
                source=v.source,
                created_at=_when(v.creation_timestamp),
                tags=dict(v.tags or {}),
            )
            for v in client.search_model_versions(f"name='{name}'", max_results=1000)
        ]
        versions.sort(key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)
        snapshot[model.name] = ModelInfo(
            name=model.name,
            description=model.description or None,
            aliases={k: str(v) for k, v in aliases.items()},
            tags=dict(model.tags or {}),
            versions=versions,
            updated_at=_when(model.last_updated_timestamp),
        )
    return snapshot


class RegistryView:
    """The last good snapshot of the registry and the task that keeps it fresh."""

    def __init__(self, tracking_uri: str, *, refresh_seconds: float):
        self.tracking_uri = tracking_uri
        self._refresher = Periodic("training-registry-refresh", self.refresh, interval=refresh_seconds)
        self._snapshot: dict[str, ModelInfo] | None = None
        self.refreshed_at: datetime | None = None
        self.last_error: str | None = None
        self._lock = asyncio.Lock()

    @property
    def refresh_seconds(self) -> float:
        return self._refresher.interval

    async def read(self) -> None:
        """Read the registry now; on failure keep the last snapshot, remember why and raise
        RegistryUnavailableError (the start-up task that makes the first read tries again)."""
        async with self._lock:
            try:
                self._snapshot = await anyio.to_thread.run_sync(_read_registry, self.tracking_uri)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                logger.warning("registry.refresh_failed", extra={"error": self.last_error})
                raise RegistryUnavailableError(self.last_error) from exc
            self.refreshed_at = datetime.now(UTC)
            self.last_error = None

    async def refresh(self) -> None:
        """Read the registry now; on failure keep the last snapshot and remember why."""
        with contextlib.suppress(RegistryUnavailableError):
            await self.read()

    def start(self) -> None:
        """Refresh every `refresh_seconds` until `stop`; the first read is the caller's."""
        self._refresher.start()

    async def stop(self) -> None:
        """Stop refreshing, waiting for a read in progress to unwind."""
        await self._refresher.stop()

    def get_all(self) -> list[ModelInfo]:
        """Every registered model, by name; 503 until the registry has been read once."""
        if self._snapshot is None:
            raise RegistryUnavailableError(self.last_error or "not read yet")
        return sorted(self._snapshot.values(), key=lambda m: m.name)

    def get_or_raise(self, name: str) -> ModelInfo:
        """One registered model; 404 when it is not registered."""
        for model in self.get_all():
            if model.name == name:
                return model
        raise ModelNotFoundError(name)


def has_alias(tracking_uri: str, name: str, alias: str) -> bool:
    """Blocking: whether a registered model has the alias, asked of MLflow directly."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}:
            return False
        raise
    return True


def terminate_run(tracking_uri: str, run_id: str) -> None:
    """Blocking: end the MLflow run of a job that never finished (interrupted or cancelled).

    A worker killed between registering its model and reporting the result leaves a model version, maybe
    with an alias, for a job the platform calls failed: delete every version registered from the run (an
    alias goes with its version), so no half-registered model is served. Then mark the run KILLED, since
    its worker never will. Idempotent: run again after a failure, it finds nothing left to delete."""
    from mlflow import MlflowClient

    if not _RUN_ID.fullmatch(run_id):  # it goes into a filter string; MLflow run ids are 32 hex digits
        raise ValueError(f"not an MLflow run id: {run_id!r}")
    client = MlflowClient(tracking_uri=tracking_uri)
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        client.delete_model_version(version.name, version.version)
        logger.warning(
            "training.version.deleted",
            extra={"model_name": version.name, "model_version": version.version, "run_id": run_id},
        )
    client.set_terminated(run_id, status="KILLED")
