"""The registry snapshot: every model, version, alias, run metric and experiment, as MLflow last told them.

It is what every read of the control tower answers from, and it is kept on disk (written atomically: a sibling
file written, synced and renamed, mlsec.core.files.write_private) so that a restart answers at once, even while
MLflow is down. A file that does not parse as a whole snapshot (torn, truncated, another format) is ignored and
reported, never half-read.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from mlsec.core.files import write_private
from mlsec.ml.registry import stage_of

logger = logging.getLogger("mlsec.control_tower.snapshot")


class RunRecord(BaseModel):
    run_id: str
    experiment_id: str
    status: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    metrics_at: datetime | None = Field(None, description="When the newest of the run's metrics was logged.")
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)


class VersionRecord(BaseModel):
    name: str
    version: str
    current_stage: str = "None"
    aliases: list[str] = Field(default_factory=list)
    status: str = "READY"
    creation_timestamp: datetime | None = None
    last_updated_timestamp: datetime | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    run_id: str | None = None

    @property
    def stage(self) -> str:
        return stage_of(self.aliases, self.current_stage)


class ModelRecord(BaseModel):
    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: datetime | None = None
    last_updated_timestamp: datetime | None = None
    versions: list[VersionRecord] = Field(default_factory=list, description="Newest first.")


class ExperimentRecord(BaseModel):
    experiment_id: str
    name: str
    artifact_location: str | None = None
    lifecycle_stage: str = "active"
    creation_time: datetime | None = None
    last_update_time: datetime | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    run_count: int = 0


class Snapshot(BaseModel):
    """One consistent picture of the registry; replaced whole, never edited in place."""

    format: Literal[1] = 1
    taken_at: datetime
    tracking_uri: str
    models: dict[str, ModelRecord] = Field(default_factory=dict)
    experiments: list[ExperimentRecord] = Field(default_factory=list)
    runs: dict[str, RunRecord] = Field(default_factory=dict, description="Runs behind versions, newest per experiment.")
    total_runs: int = 0
    refresh_seconds: float = Field(0.0, description="How long the full read of MLflow that made it took.")

    def versions(self) -> list[VersionRecord]:
        """Every version of every model: models by name, versions newest first."""
        return [v for name in sorted(self.models) for v in self.models[name].versions]

    def age_seconds(self, now: datetime | None = None) -> float:
        return max(0.0, ((now or datetime.now(UTC)) - self.taken_at).total_seconds())


def load(path: Path) -> Snapshot | None:
    """The snapshot kept in `path`; None when there is none or it is not a whole snapshot of this format."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("snapshot.unreadable", extra={"path": str(path), "error_type": type(exc).__name__})
        return None
    try:
        return Snapshot.model_validate_json(raw)
    except ValidationError as exc:
        logger.warning("snapshot.invalid", extra={"path": str(path), "errors": exc.error_count(), "bytes": len(raw)})
        return None


def remove_leftovers(path: Path) -> int:
    """Delete the temporary siblings a writer killed mid-write left behind (never the snapshot); how many."""
    removed = 0
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed


def save(snapshot: Snapshot, path: Path) -> int:
    """Replace the file with the snapshot in one step (owner-only, synced, renamed); its size in bytes."""
    text = snapshot.model_dump_json()
    write_private(path, text)
    return len(text.encode())
