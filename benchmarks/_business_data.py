"""Raw records for the business-metrics suite: a prediction log and the serving service's per-minute process
samples, generated once (seeded), written as Parquet (the export a user without the service would analyse) and
counted into the business-metrics service's database through its own writers (`service/rollups.py`), the way
its collector counts them.

Three versions of one model are served by the model API: versions 1 and 2 over the whole span, version 3 (a
canary) over its last third; each minute's count is Poisson around a daily cycle; latencies are log-normal per
version; about one prediction in twenty is a threat.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SERVICE = "model-api"
MODEL = "security-classifier"
BENIGN = "0"
THREAT = "1"


@dataclass(frozen=True)
class VersionShape:
    """How one model version's traffic looks: mean predictions per minute, latency and threat share."""

    version: str
    per_minute: float
    median_ms: float
    sigma: float
    threat_share: float
    from_fraction: float = 0.0
    """Serves from this fraction of the span on (0: all of it)."""


VERSIONS = (
    VersionShape("1", 30.0, 12.0, 0.5, 0.06),
    VersionShape("2", 15.0, 9.0, 0.6, 0.05),
    VersionShape("3", 25.0, 15.0, 0.4, 0.07, from_fraction=2 / 3),
)
CPU_BASE_S = 0.02
"""CPU seconds the model API spends in an idle minute; each prediction adds CPU_PER_PREDICTION_S."""
CPU_PER_PREDICTION_S = 0.0025
MEMORY_GIB = 0.42
PROBE_MINUTES = 5
"""One process sample per 5 minutes (the collector with `collect_interval_s=300`): the service's writer costs
a statement per sample, so per-minute samples over 30 days would make loading the slowest part of the run."""


@dataclass(frozen=True)
class RawRecords:
    """The prediction log and the process samples, and the minutes they span ([first, end))."""

    log: pd.DataFrame
    samples: pd.DataFrame
    first_minute: int
    end_minute: int


def span(now: datetime, days: float) -> tuple[int, int]:
    """Whole minutes since the epoch: from the first whole hour after `now - days + 1 h` to `now`'s minute.

    Every record then lies in every period of `days` asked in the next hour, whatever the resolution (an hourly
    answer counts the hours that start in the period)."""
    end = int(now.timestamp() // 60)
    first = end - int(days * 1440) + 60
    return first + (-first) % 60, end


def generate(now: datetime, days: float, seed: int) -> RawRecords:
    """The seeded raw records of `days` ending at `now`'s minute."""
    rng = np.random.default_rng(seed)
    first, end = span(now, days)
    minutes = np.arange(first, end, dtype=np.int64)
    cycle = 1 + 0.5 * np.sin(2 * np.pi * ((minutes % 1440) / 1440 - 0.25))
    parts = []
    for shape in VERSIONS:
        served = minutes[int(len(minutes) * shape.from_fraction) :]
        counts = rng.poisson(shape.per_minute * cycle[len(minutes) - len(served) :])
        at_minute = np.repeat(served, counts)
        n = len(at_minute)
        at_us = at_minute * 60_000_000 + rng.integers(0, 60_000_000, n)
        parts.append(
            pd.DataFrame(
                {
                    "created_at": pd.to_datetime(at_us, unit="us", utc=True),
                    "service": SERVICE,
                    "model_name": MODEL,
                    "model_version": shape.version,
                    "label": np.where(rng.random(n) < shape.threat_share, THREAT, BENIGN),
                    "latency_ms": np.round(rng.lognormal(math.log(shape.median_ms), shape.sigma, n), 3),
                }
            )
        )
    log = pd.concat(parts, ignore_index=True).sort_values("created_at", kind="stable", ignore_index=True)
    minute_of = (log["created_at"].astype("int64") // 60_000_000_000 - first).to_numpy()
    per_block = np.bincount(minute_of // PROBE_MINUTES, minlength=len(minutes) // PROBE_MINUTES + 1)
    blocks = first + PROBE_MINUTES * np.arange(len(per_block), dtype=np.int64)
    keep = blocks + PROBE_MINUTES <= end  # whole blocks only: a probe reports the block behind it
    per_block, blocks = per_block[keep], blocks[keep]
    noise = rng.uniform(0.9, 1.1, len(blocks))
    samples = pd.DataFrame(
        {
            "at": pd.to_datetime((blocks + PROBE_MINUTES) * 60 - 30, unit="s", utc=True),
            "service": SERVICE,
            "healthy": True,
            "interval_s": PROBE_MINUTES * 60.0,
            "cpu_s": np.round((CPU_BASE_S * PROBE_MINUTES + CPU_PER_PREDICTION_S * per_block) * noise, 6),
            "memory_gib": np.round(MEMORY_GIB + rng.normal(0, 0.01, len(blocks)), 6),
            "requests": per_block,
        }
    )
    return RawRecords(log=log, samples=samples, first_minute=first, end_minute=end)


def write_parquet(records: RawRecords, directory: Path) -> tuple[Path, Path]:
    """The export: `predictions.parquet` and `process_samples.parquet`."""
    log_path, samples_path = directory / "predictions.parquet", directory / "process_samples.parquet"
    records.log.to_parquet(log_path, index=False)
    records.samples.to_parquet(samples_path, index=False)
    return log_path, samples_path


def _datetimes(column: pd.Series) -> list[datetime]:
    naive = column.dt.tz_convert(UTC).dt.tz_localize(None).to_numpy().astype("datetime64[us]").tolist()
    return [at.replace(tzinfo=UTC) for at in naive]


async def _load(settings: Any, records: RawRecords, chunk_minutes: int) -> None:
    """Start the app in this process (which creates its schema), count every record through the writers, stop."""
    from mlsec.services.business_metrics.app import create_app
    from mlsec.services.business_metrics.service.rollups import (
        PredictionSample,
        ServiceSample,
        add_predictions,
        add_service_sample,
    )
    from mlsec.services.business_metrics.settings import BusinessMetricsSettings

    own = BusinessMetricsSettings(collect_enabled=False)
    app = create_app(settings, own)
    async with app.router.lifespan_context(app):
        db = app.state.business.ctx.db
        log_minutes = records.log["created_at"].astype("int64").to_numpy() // 60_000_000_000
        sample_minutes = records.samples["at"].astype("int64").to_numpy() // 60_000_000_000
        for start in range(records.first_minute, records.end_minute, chunk_minutes):
            lo, hi = np.searchsorted(log_minutes, [start, start + chunk_minutes])
            part = records.log.iloc[lo:hi]
            samples = [
                PredictionSample(at, service, name, version, label, float(latency))
                for at, service, name, version, label, latency in zip(
                    _datetimes(part["created_at"]),
                    part["service"],
                    part["model_name"],
                    part["model_version"],
                    part["label"],
                    part["latency_ms"],
                    strict=True,
                )
            ]
            async with db.session() as session:
                await add_predictions(session, samples, own.benign_labels)
            lo, hi = np.searchsorted(sample_minutes, [start, start + chunk_minutes])
            rows = records.samples.iloc[lo:hi]
            async with db.session() as session:
                for at, row in zip(_datetimes(rows["at"]), rows.itertuples(index=False), strict=True):
                    sample = ServiceSample(
                        healthy=bool(row.healthy),
                        interval_s=float(row.interval_s),
                        was_healthy=True,
                        cpu_s=float(row.cpu_s),
                        memory_gib=float(row.memory_gib),
                        requests=int(row.requests),
                        prediction_requests=int(row.requests),
                    )
                    await add_service_sample(session, str(row.service), at, sample)


def load_into_service(home: Path, records: RawRecords) -> dict[str, Any]:
    """Count the records into the business-metrics database under `home` (a day per transaction); seconds taken."""
    from mlsec.core.settings import Settings

    settings = Settings(
        _env_file=None,
        home=home,
        trace_export=False,
        cache_backend="memory",
        events_backend="http",
        database_url=None,
        postgres_url=None,
        redis_url=None,
        redis_host=None,
        log_level="WARNING",
    )
    started = time.monotonic()
    asyncio.run(_load(settings, records, chunk_minutes=1440))
    return {
        "load_s": round(time.monotonic() - started, 1),
        "database_mib": round(_size_mib(home), 1),
    }


def _size_mib(home: Path) -> float:
    return sum(path.stat().st_size for path in (home / "db").glob("*")) / 2**20


def describe(records: RawRecords) -> dict[str, Any]:
    """What the records hold: the span, predictions per version, process samples."""
    counts = records.log["model_version"].value_counts().sort_index()
    return {
        "start": datetime.fromtimestamp(records.first_minute * 60, UTC).isoformat(),
        "end": datetime.fromtimestamp(records.end_minute * 60, UTC).isoformat(),
        "days": round((records.end_minute - records.first_minute) / 1440, 2),
        "predictions": len(records.log),
        "per_version": {str(version): int(count) for version, count in counts.items()},
        "process_samples": len(records.samples),
    }


__all__ = ["RawRecords", "describe", "generate", "load_into_service", "span", "write_parquet"]
