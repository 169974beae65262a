"""Red-team runs: the attack suite sent to a served model version through the SDK, runs stored (made here or
uploaded by `mlsec redteam`), and read back as a summary, trends across versions and evasion patterns.

The model API is reached only through the SDK's `BatchClassifier`: the first batch decides the version, so a
champion swapped during a run cannot mix two models into one report, and batches of `redteam_batch_size` are
shortened to what the model API accepts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.client.batching import BatchClassifier, ClassifyError, Progress
from mlsec.ml.redteam import SEED_PROMPTS, Attack, RedTeamReport, generate_attacks, run_suite
from mlsec.services.analytics.errors import RedTeamRunNotFoundError, model_api_error
from mlsec.services.analytics.models import RedTeamRun
from mlsec.services.analytics.schemas.redteam import (
    ModelRedTeamSummary,
    ModelTrend,
    PatternExample,
    RedTeamPatterns,
    RedTeamResultsRequest,
    RedTeamRunBrief,
    RedTeamRunRead,
    RedTeamRunRequest,
    RedTeamSummary,
    RedTeamTrends,
    Source,
    TechniquePattern,
    TechniqueRate,
    TechniqueResultRead,
    TechniqueTrendPoint,
    TrendPoint,
)
from mlsec.services.analytics.state import Analytics

POSITIVE_LABEL = "1"  # the injection class of the platform's detectors
TREND_RUNS_PER_MODEL = 100
PATTERN_EXAMPLES = 5


async def attack(
    classifier: BatchClassifier, attacks: Sequence[Attack], progress: Progress | None = None
) -> RedTeamReport:
    """The suite's report on a served model: labels from the model API, counted by `run_suite`. Raises the
    HTTP error that says why the model API could not label the attacks (404, 503 or 502)."""
    try:
        labels = await classifier.labels([a.prompt for a in attacks], progress)
    except ClassifyError as exc:
        raise model_api_error(exc) from exc
    return run_suite(lambda _prompts: labels, attacks, positive_label=POSITIVE_LABEL, batch_size=len(attacks))


# --- storing runs --------------------------------------------------------------------------------------


async def run(analytics: Analytics, session: AsyncSession, request: RedTeamRunRequest) -> RedTeamRun:
    """Attack the requested model version now and store the run under the version that answered."""
    attacks = generate_attacks(
        SEED_PROMPTS, request.techniques, variants_per_seed=request.variants_per_seed, seed=request.seed
    )
    classifier = BatchClassifier(
        analytics.sdk.model_api,
        request.model_name,
        request.version,
        analytics.settings.redteam_batch_size,
        traffic_class="redteam",
    )
    report = await attack(classifier, attacks)
    assert classifier.answered_version is not None  # at least one batch was answered
    config = {
        "techniques": report.technique_names,
        "variants_per_seed": request.variants_per_seed,
        "seed": request.seed,
        "seeds": len(SEED_PROMPTS),
        "requested_version": request.version,
    }
    return await _create(
        session, request.model_name, classifier.answered_version, source="run", report=report.to_dict(), config=config
    )


async def create_from_report(session: AsyncSession, request: RedTeamResultsRequest) -> RedTeamRun:
    """Store a report made elsewhere (already validated: counts add up, rates match them)."""
    report = request.report.model_dump(mode="json")
    return await _create(session, request.model_name, request.model_version, source="upload", report=report)


async def _create(
    session: AsyncSession,
    model_name: str,
    model_version: str,
    *,
    source: str,
    report: dict[str, Any],
    config: dict[str, Any] | None = None,
) -> RedTeamRun:
    row = RedTeamRun(
        model_name=model_name,
        model_version=model_version,
        source=source,
        attempts=int(report["attempts"]),
        detected=int(report["detected"]),
        detection_rate=float(report["detection_rate"]),
        report={**report, "config": config},
    )
    session.add(row)
    await session.flush()
    return row


def completed_event(row: RedTeamRun) -> dict[str, object]:
    """The `redteam.completed` payload: rates only, never a prompt."""
    rates = _rates(row)
    weakest = weakest_technique(rates)
    return {
        "run_id": row.id,
        "model_name": row.model_name,
        "model_version": row.model_version,
        "source": row.source,
        "attempts": row.attempts,
        "detected": row.detected,
        "detection_rate": row.detection_rate,
        "weakest_technique": weakest.technique if weakest else None,
        "techniques": {rate.technique: rate.detection_rate for rate in rates},
    }


def announce(analytics: Analytics, payload: dict[str, object]) -> None:
    """Publish a stored run (called once the request's transaction is committed)."""
    analytics.ctx.publish("redteam", "redteam.completed", payload)


# --- reading runs --------------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _base(row: RedTeamRun) -> dict[str, Any]:
    return {
        "id": row.id,
        "model_name": row.model_name,
        "model_version": row.model_version,
        "source": row.source,
        "created_at": _aware(row.created_at),
        "attempts": row.attempts,
        "detected": row.detected,
        "detection_rate": row.detection_rate,
        "baseline_detection_rate": row.report.get("baseline_detection_rate"),
    }


def _rates(row: RedTeamRun) -> list[TechniqueRate]:
    return [TechniqueRate.model_validate(result) for result in row.report.get("techniques", [])]


def weakest_technique(rates: Iterable[TechniqueRate]) -> TechniqueRate | None:
    """The technique detected least often (the first of equals); None when none was attempted."""
    return min((rate for rate in rates if rate.attempts), key=lambda rate: rate.detection_rate, default=None)


def run_read(row: RedTeamRun) -> RedTeamRunRead:
    return RedTeamRunRead(
        **_base(row),
        positive_label=str(row.report.get("positive_label", POSITIVE_LABEL)),
        config=row.report.get("config"),
        techniques=[TechniqueResultRead.model_validate(result) for result in row.report.get("techniques", [])],
    )


def run_brief(row: RedTeamRun) -> RedTeamRunBrief:
    return RedTeamRunBrief(**_base(row), techniques=_rates(row))


async def get_or_raise(session: AsyncSession, *, run_id: int) -> RedTeamRun:
    row = await session.get(RedTeamRun, run_id)
    if row is None:
        raise RedTeamRunNotFoundError(run_id)
    return row


async def get_all(
    session: AsyncSession, *, model_name: str | None, limit: int, offset: int
) -> tuple[Sequence[RedTeamRun], int]:
    """A page of runs, newest first, and how many match in all."""
    query = select(RedTeamRun)
    if model_name:
        query = query.where(RedTeamRun.model_name == model_name)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    page = query.order_by(RedTeamRun.created_at.desc(), RedTeamRun.id.desc()).limit(limit).offset(offset)
    return (await session.scalars(page)).all(), int(total)


async def get_newest(session: AsyncSession, *, model_name: str | None, per_model: int) -> list[RedTeamRun]:
    """The `per_model` newest runs of each model (or of one), by model name, then oldest first."""
    rank = (
        func.row_number()
        .over(partition_by=RedTeamRun.model_name, order_by=(RedTeamRun.created_at.desc(), RedTeamRun.id.desc()))
        .label("rank")
    )
    ranked = select(RedTeamRun.id, rank)
    if model_name:
        ranked = ranked.where(RedTeamRun.model_name == model_name)
    chosen = ranked.subquery()
    query = (
        select(RedTeamRun)
        .join(chosen, chosen.c.id == RedTeamRun.id)
        .where(chosen.c.rank <= per_model)
        .order_by(RedTeamRun.model_name, RedTeamRun.created_at, RedTeamRun.id)
    )
    return list((await session.scalars(query)).all())


def summary(latest: Sequence[RedTeamRun]) -> RedTeamSummary:
    """Each model's latest run: its rates per technique and its weakest technique."""
    models = []
    for row in latest:
        rates = _rates(row)
        models.append(ModelRedTeamSummary(**_base(row), techniques=rates, weakest_technique=weakest_technique(rates)))
    return RedTeamSummary(models=models, count=len(models))


def _change(now: float, before: float | None) -> float | None:
    return None if before is None else now - before


def _trend_point(row: RedTeamRun, previous: RedTeamRun | None) -> TrendPoint:
    before = {rate.technique: rate.detection_rate for rate in _rates(previous)} if previous else {}
    techniques = [
        TechniqueTrendPoint(
            technique=rate.technique,
            detection_rate=rate.detection_rate,
            change=_change(rate.detection_rate, before.get(rate.technique)),
        )
        for rate in _rates(row)
    ]
    return TrendPoint(
        run_id=row.id,
        created_at=_aware(row.created_at),
        model_version=row.model_version,
        source=cast(Source, row.source),
        attempts=row.attempts,
        detection_rate=row.detection_rate,
        change=_change(row.detection_rate, previous.detection_rate if previous else None),
        techniques=techniques,
    )


def trends(history: Sequence[RedTeamRun]) -> RedTeamTrends:
    """Per model, its runs oldest first, each with the change since the one before, overall and per technique."""
    models = []
    for name, group in itertools.groupby(history, key=lambda row: row.model_name):
        rows = list(group)
        points = [_trend_point(row, previous) for previous, row in zip([None, *rows[:-1]], rows, strict=True)]
        first_to_last = points[-1].detection_rate - points[0].detection_rate if len(points) > 1 else None
        models.append(ModelTrend(model_name=name, runs=points, change_since_first=first_to_last))
    return RedTeamTrends(models=models, count=len(models))


@dataclass
class _PatternTally:
    technique: str
    models: int = 0
    attempts: int = 0
    detected: int = 0
    examples: list[list[PatternExample]] = field(default_factory=list)  # per run, the first few

    def add(self, row: RedTeamRun, result: dict[str, Any]) -> None:
        self.models += 1
        self.attempts += int(result["attempts"])
        self.detected += int(result["detected"])
        run: dict[str, Any] = {"model_name": row.model_name, "model_version": row.model_version, "run_id": row.id}
        evaded = result.get("evaded_examples", [])[:PATTERN_EXAMPLES]
        self.examples.append([PatternExample(**run, label=str(e["label"]), prompt=str(e["prompt"])) for e in evaded])

    def pattern(self) -> TechniquePattern:
        evaded = self.attempts - self.detected
        mixed = [e for row in itertools.zip_longest(*self.examples) for e in row if e is not None]  # model by model
        return TechniquePattern(
            technique=self.technique,
            models=self.models,
            attempts=self.attempts,
            detected=self.detected,
            evaded=evaded,
            evasion_rate=evaded / self.attempts if self.attempts else 0.0,
            examples=mixed[:PATTERN_EXAMPLES],
        )


def patterns(latest: Sequence[RedTeamRun]) -> RedTeamPatterns:
    """Techniques over the latest run of each model, the most evasive first, with examples that got through."""
    tallies: dict[str, _PatternTally] = {}
    for row in latest:
        for result in row.report.get("techniques", []):
            tallies.setdefault(result["technique"], _PatternTally(result["technique"])).add(row, result)
    ranked = sorted(
        (tally.pattern() for tally in tallies.values()), key=lambda p: (-p.evasion_rate, -p.evaded, p.technique)
    )
    return RedTeamPatterns(runs=len(latest), models=sorted({row.model_name for row in latest}), techniques=ranked)
