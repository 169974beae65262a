"""Experiments and their runs, from the snapshot (the newest runs of each experiment are kept in it)."""

from __future__ import annotations

from datetime import UTC, datetime

from mlsec.client import ServiceCallError
from mlsec.services.control_tower.errors import ExperimentNotFoundError
from mlsec.services.control_tower.service.snapshot import ExperimentRecord, RunRecord, Snapshot
from mlsec.services.control_tower.state import ControlTower

_EPOCH = datetime.min.replace(tzinfo=UTC)


def get_all(snapshot: Snapshot) -> list[ExperimentRecord]:
    """Every experiment, every lifecycle stage, by id."""
    return sorted(snapshot.experiments, key=lambda e: (len(e.experiment_id), e.experiment_id))


def get_or_raise(snapshot: Snapshot, experiment_id: str) -> ExperimentRecord:
    for experiment in snapshot.experiments:
        if experiment.experiment_id == experiment_id:
            return experiment
    raise ExperimentNotFoundError(experiment_id)


async def get_runs(tower: ControlTower, experiment_id: str, limit: int) -> list[RunRecord]:
    """The newest `limit` runs of an experiment, newest first: from the snapshot when it holds them all, else
    read from MLflow now (falling back to what the snapshot holds when MLflow cannot answer)."""
    snapshot = (await tower.current_views()).snapshot
    experiment = get_or_raise(snapshot, experiment_id)
    kept = sorted(
        (r for r in snapshot.runs.values() if r.experiment_id == experiment_id),
        key=lambda r: r.start_time or _EPOCH,
        reverse=True,
    )
    if len(kept) >= min(limit, experiment.run_count):
        return kept[:limit]
    try:
        return await tower.reader.read_runs(experiment_id, limit)
    except ServiceCallError:
        return kept[:limit]
