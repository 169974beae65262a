"""Reads MLflow's REST API into a snapshot: in bulk for a full refresh, one model for an event-driven one.

A full read is a handful of paged calls whatever the registry's size (experiments, registered models, every
model version in one search, runs per experiment), never one call per model: MLflow answers a listing of 200
models' versions one model at a time in about 170 ms, the bulk search of all of them in one call.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from mlsec.client import ServiceCallError
from mlsec.client.mlflow import MLflowClient
from mlsec.services.control_tower.service.snapshot import (
    ExperimentRecord,
    ModelRecord,
    RunRecord,
    Snapshot,
    VersionRecord,
)

REGISTERED_MODELS_PAGE = 1000  # MLflow's most per page of registered-models/search
VERSIONS_PAGE = 10_000  # model-versions/search
RUNS_PAGE = 1000  # runs/search
EXPERIMENTS_PER_RUN_SEARCH = 100
TEXT_LIMIT = 1000  # longest tag or param value kept: the snapshot stays small
DROPPED_TAGS = frozenset({"mlflow.log-model.history"})  # JSON blobs of every logged model; nothing reads them


def when(millis: Any) -> datetime | None:
    """MLflow's milliseconds since 1970 (a number, or a string for int64 fields) as an aware time."""
    if millis in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(millis) / 1000, UTC)


def _pairs(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {
        str(i["key"]): str(i.get("value", ""))[:TEXT_LIMIT]
        for i in items or ()
        if "key" in i and i["key"] not in DROPPED_TAGS
    }


def _version_key(version: VersionRecord) -> int:
    return int(version.version) if version.version.isdigit() else -1


async def _pages(call: Callable[[str | None], Awaitable[dict[str, Any]]], field: str) -> AsyncIterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = await call(token)
        for item in page.get(field, []) or []:
            yield item
        token = page.get("next_page_token") or None
        if token is None:
            return


def run_record(run: dict[str, Any]) -> RunRecord:
    info, data = run.get("info", {}), run.get("data", {})
    metrics = data.get("metrics", []) or []
    stamps = [int(m["timestamp"]) for m in metrics if m.get("timestamp") not in (None, "")]
    return RunRecord(
        run_id=str(info.get("run_id") or info.get("run_uuid")),
        experiment_id=str(info.get("experiment_id", "")),
        status=str(info.get("status", "UNKNOWN")),
        start_time=when(info.get("start_time")),
        end_time=when(info.get("end_time")),
        metrics={str(m["key"]): float(m["value"]) for m in metrics if "key" in m and m.get("value") is not None},
        metrics_at=when(max(stamps)) if stamps else None,
        params=_pairs(data.get("params")),
        tags=_pairs(data.get("tags")),
    )


def _model(raw: dict[str, Any], versions: list[dict[str, Any]]) -> ModelRecord:
    aliases = {str(a["alias"]): str(a["version"]) for a in raw.get("aliases", []) or [] if "alias" in a}
    held: dict[str, list[str]] = defaultdict(list)
    for alias, version in aliases.items():
        held[version].append(alias)
    records = [
        VersionRecord(
            name=str(v["name"]),
            version=str(v["version"]),
            current_stage=str(v.get("current_stage") or "None"),
            aliases=sorted(held.get(str(v["version"]), [])),
            status=str(v.get("status") or "READY"),
            creation_timestamp=when(v.get("creation_timestamp")),
            last_updated_timestamp=when(v.get("last_updated_timestamp")),
            description=v.get("description") or None,
            tags=_pairs(v.get("tags")),
            run_id=v.get("run_id") or None,
        )
        for v in versions
    ]
    records.sort(key=_version_key, reverse=True)
    return ModelRecord(
        name=str(raw["name"]),
        description=raw.get("description") or None,
        tags=_pairs(raw.get("tags")),
        aliases=aliases,
        creation_timestamp=when(raw.get("creation_timestamp")),
        last_updated_timestamp=when(raw.get("last_updated_timestamp")),
        versions=records,
    )


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace("'", "\\'")


class RegistryReader:
    """What the control tower asks of MLflow; every method reads, none writes."""

    def __init__(self, mlflow: MLflowClient, *, tracking_uri: str, runs_kept_per_experiment: int):
        self.mlflow = mlflow
        self.tracking_uri = tracking_uri
        self.runs_kept = runs_kept_per_experiment

    async def count_experiments(self) -> int:
        """How many experiments MLflow has (every lifecycle stage): the seed's health check."""
        return sum([1 async for _ in self._experiments()])

    async def read_all(self) -> Snapshot:
        """The whole registry, its runs' metrics and every experiment."""
        started = time.perf_counter()
        experiments = [self._experiment(e) async for e in self._experiments()]
        raw_models = [
            m
            async for m in _pages(
                lambda token: self.mlflow.search_registered_models(
                    max_results=REGISTERED_MODELS_PAGE, page_token=token
                ),
                "registered_models",
            )
        ]
        by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
        async for version in _pages(
            lambda token: self.mlflow.search_model_versions(max_results=VERSIONS_PAGE, page_token=token),
            "model_versions",
        ):
            by_model[str(version.get("name"))].append(version)
        models = {str(m["name"]): _model(m, by_model.get(str(m["name"]), [])) for m in raw_models}
        wanted = {v.run_id for m in models.values() for v in m.versions if v.run_id}
        runs, counts = await self._runs([e.experiment_id for e in experiments], wanted)
        for experiment in experiments:
            experiment.run_count = counts.get(experiment.experiment_id, 0)
        return Snapshot(
            taken_at=datetime.now(UTC),
            tracking_uri=self.tracking_uri,
            models=models,
            experiments=experiments,
            runs=runs,
            total_runs=sum(counts.values()),
            refresh_seconds=round(time.perf_counter() - started, 4),
        )

    async def read_model(self, name: str, known_runs: dict[str, RunRecord]) -> ModelRecord | None:
        """One registered model with its versions, as MLflow has it now; None when it is not registered. Runs
        of its versions are fetched unless `known_runs` holds them finished."""
        try:
            raw = (await self.mlflow.get_registered_model(name)).get("registered_model", {})
        except ServiceCallError as exc:
            if exc.status_code == 404:
                return None
            raise
        versions = [
            v
            async for v in _pages(
                lambda token: self.mlflow.search_model_versions(
                    filter_string=f"name='{_quoted(name)}'", max_results=VERSIONS_PAGE, page_token=token
                ),
                "model_versions",
            )
        ]
        return _model(raw, versions)

    async def read_run(self, run_id: str) -> RunRecord:
        return run_record((await self.mlflow.get_run(run_id))["run"])

    async def read_runs(self, experiment_id: str, limit: int) -> list[RunRecord]:
        """The newest runs of one experiment, read now (when the snapshot is not used)."""
        page = await self.mlflow.search_runs(
            [experiment_id], max_results=limit, order_by=["attributes.start_time DESC"]
        )
        return [run_record(r) for r in page.get("runs", []) or []]

    def _experiments(self) -> AsyncIterator[dict[str, Any]]:
        return _pages(
            lambda token: self.mlflow.search_experiments(max_results=1000, page_token=token, view_type="ALL"),
            "experiments",
        )

    @staticmethod
    def _experiment(raw: dict[str, Any]) -> ExperimentRecord:
        return ExperimentRecord(
            experiment_id=str(raw["experiment_id"]),
            name=str(raw.get("name", "")),
            artifact_location=raw.get("artifact_location"),
            lifecycle_stage=str(raw.get("lifecycle_stage", "active")),
            creation_time=when(raw.get("creation_time")),
            last_update_time=when(raw.get("last_update_time")),
            tags=_pairs(raw.get("tags")),
        )

    async def _runs(self, experiment_ids: list[str], wanted: set[str]) -> tuple[dict[str, RunRecord], dict[str, int]]:
        """Every run, counted per experiment; kept: the runs behind versions and the newest of each experiment."""
        counts: dict[str, int] = defaultdict(int)
        kept: dict[str, RunRecord] = {}
        for start in range(0, len(experiment_ids), EXPERIMENTS_PER_RUN_SEARCH):
            chunk = experiment_ids[start : start + EXPERIMENTS_PER_RUN_SEARCH]
            async for raw in _pages(
                lambda token, ids=chunk: self.mlflow.search_runs(  # type: ignore[misc]
                    ids, max_results=RUNS_PAGE, order_by=["attributes.start_time DESC"], page_token=token
                ),
                "runs",
            ):
                run = run_record(raw)
                counts[run.experiment_id] += 1
                if run.run_id in wanted or counts[run.experiment_id] <= self.runs_kept:
                    kept[run.run_id] = run
        return kept, dict(counts)
