"""Promotion: challenger against champion on the same held-out data, and the ledger of every decision.

Both versions classify the held-out part of the model's labelled feedback (see `feedback_data`) and the
red-team suite, through the model API; `mlsec.ml.promotion` decides (paired McNemar test, bootstrap interval of
the F1 difference, minimum gain, latency, red-team rate, and when asked for the champion's SLA on the challenger's
production figures, see `promotion_sla`). Only when every criterion holds, and promotion was
asked for, the registry's `champion` alias moves (the serving services then hot-swap). Either way the
decision and its evidence are appended to the ledger, which answers "which version was champion at time T,
who moved it and on what evidence" (MLflow keeps no history of aliases).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import anyio
from mlflow import MlflowClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.client import ServiceCallError
from mlsec.client.batching import BatchClassifier, ClassifyError
from mlsec.core.errors import ConflictError, NotFoundError, ServiceUnavailableError
from mlsec.ml.promotion import PromotionCriteria, evaluate_promotion
from mlsec.ml.redteam import SEED_PROMPTS, generate_attacks
from mlsec.ml.registry import CHALLENGER, CHAMPION
from mlsec.services.analytics.errors import model_api_error
from mlsec.services.analytics.models import PromotionRecord
from mlsec.services.analytics.schemas.configs import PromotionSettings
from mlsec.services.analytics.service import configs, feedback_data, promotion_sla, redteam
from mlsec.services.analytics.state import Analytics

logger = logging.getLogger("mlsec.analytics.promotion")
MIN_HOLDOUT_ROWS = 20
PREDICT_BATCH = 256


def _move_champion(tracking_uri: str, model_name: str, version: str) -> None:
    client = MlflowClient(tracking_uri)
    client.set_registered_model_alias(model_name, CHAMPION, version)
    if client.get_registered_model(model_name).aliases.get(CHALLENGER) == version:
        client.delete_registered_model_alias(model_name, CHALLENGER)


async def _registry_aliases(analytics: Analytics, model_name: str) -> dict[str, str]:
    """The model's aliases through MLflow's REST API (our resilient client: fails fast when MLflow is down)."""
    try:
        answer = await analytics.sdk.mlflow.get_registered_model(model_name)
    except ServiceCallError as exc:
        if exc.status_code == 404:
            raise NotFoundError(f"model {model_name!r} is not registered", details={"model_name": model_name}) from exc
        raise ServiceUnavailableError(
            f"MLflow is not answering ({exc.error_type})", details={"service": "mlflow"}
        ) from exc
    aliases = answer.get("registered_model", {}).get("aliases", [])
    return {str(item["alias"]): str(item["version"]) for item in aliases}


async def _classify(analytics: Analytics, model_name: str, version: str, texts: list[str]) -> tuple[list[str], float]:
    """Labels of one version for every text, and its median per-text latency as the model API measured it."""
    classifier = BatchClassifier(
        analytics.sdk.model_api, model_name, version, PREDICT_BATCH, traffic_class="evaluation"
    )
    try:
        labels = await classifier.labels(texts)
    except ClassifyError as exc:
        raise model_api_error(exc) from exc
    return labels, classifier.median_latency_ms or 0.0


async def _redteam_rate(analytics: Analytics, model_name: str, version: str) -> float:
    """The version's detection rate on the red-team suite (the same attacks for both versions)."""
    classifier = BatchClassifier(
        analytics.sdk.model_api, model_name, version, PREDICT_BATCH, traffic_class="evaluation"
    )
    report = await redteam.attack(classifier, generate_attacks(SEED_PROMPTS, seed=0))
    return report.detection_rate


def _criteria(settings: PromotionSettings) -> PromotionCriteria:
    return PromotionCriteria(
        alpha=settings.alpha,
        min_f1_gain=settings.min_f1_gain,
        max_latency_ms=settings.max_latency_ms,
        max_redteam_drop=settings.max_redteam_drop,
        require_significance=settings.require_significance,
        n_resamples=settings.n_resamples,
    )


async def observe(session: AsyncSession, *, model_name: str, champion: str) -> None:
    """Open the ledger of a model with the champion as found, the first time the ledger hears of it."""
    known = await session.scalar(select(PromotionRecord.id).where(PromotionRecord.model_name == model_name).limit(1))
    if known is None:
        session.add(
            PromotionRecord(
                created_at=datetime.now(UTC),
                model_name=model_name,
                action="observed",
                champion_before=None,
                champion_after=champion,
                challenger_version=None,
                actor="registry",
                summary=f"version {champion} found as champion when the ledger started",
                evidence={},
            )
        )
        await session.flush()


async def evaluate(
    analytics: Analytics,
    session: AsyncSession,
    *,
    model_name: str,
    challenger_version: str | None,
    promote: bool,
    actor: str,
    retrain_request_id: int | None = None,
    drift_run_id: int | None = None,
) -> PromotionRecord:
    """Evaluate the challenger against the champion, promote when every criterion holds, record it."""
    settings = (await configs.get(session, model_name=model_name)).promotion
    aliases = await _registry_aliases(analytics, model_name)
    champion = aliases.get(CHAMPION)
    challenger = challenger_version or aliases.get(CHALLENGER)
    if champion is None:
        raise ConflictError(f"model {model_name!r} has no champion to compare with", details={"model_name": model_name})
    if challenger is None or challenger == champion:
        raise ConflictError(
            f"model {model_name!r} has no challenger other than its champion (version {champion})",
            details={"model_name": model_name, "champion": champion},
        )
    await observe(session, model_name=model_name, champion=champion)
    texts, truth = await feedback_data.get_labelled_texts(
        session, model_name=model_name, holdout=True, limit=settings.evaluation_max_rows
    )
    if len(texts) < MIN_HOLDOUT_ROWS:
        raise ConflictError(
            f"model {model_name!r} has {len(texts)} held-out labelled feedback texts; an evaluation needs at least "
            f"{MIN_HOLDOUT_ROWS} (send labelled feedback with its text to POST /feedback)",
            details={"model_name": model_name, "holdout_rows": len(texts)},
        )
    started = time.perf_counter()
    champion_labels, champion_ms = await _classify(analytics, model_name, champion, texts)
    challenger_labels, challenger_ms = await _classify(analytics, model_name, challenger, texts)
    redteam = {}
    if settings.max_redteam_drop is not None:
        redteam = {
            "champion": await _redteam_rate(analytics, model_name, champion),
            "challenger": await _redteam_rate(analytics, model_name, challenger),
        }
    classes = sorted(set(truth) | set(champion_labels) | set(challenger_labels))
    positive = "1" if "1" in classes else classes[-1]
    negative = next((c for c in classes if c != positive), "0")
    sla_check, sla_seen = await promotion_sla.check(
        analytics, settings, model_name=model_name, champion=champion, challenger=challenger
    )
    try:
        decision = evaluate_promotion(
            truth,
            champion_labels,
            challenger_labels,
            criteria=_criteria(settings),
            champion_latency_ms=champion_ms,
            challenger_latency_ms=challenger_ms,
            champion_redteam_rate=redteam.get("champion"),
            challenger_redteam_rate=redteam.get("challenger"),
            positive_label=positive,
            negative_label=negative,
            extra_checks=(sla_check,),
        )
    except ValueError as exc:
        raise ConflictError(f"the evaluation data cannot be compared: {exc}") from exc
    promoted = decision.promote and promote
    if promoted:
        await anyio.to_thread.run_sync(_move_champion, analytics.ctx.settings.mlflow_uri, model_name, challenger)
    evidence: dict[str, Any] = {
        "decision": decision.to_dict(),
        "data": {
            "source": "labelled feedback, held-out part",
            "rows": len(texts),
            "share": feedback_data.HOLDOUT_SHARE,
        },
        "latency_ms": {"champion": champion_ms, "challenger": challenger_ms},
        "redteam_detection_rate": redteam,
        "sla": sla_seen,
        "criteria": settings.model_dump(),
        "promotion_requested": promote,
        "evaluation_seconds": round(time.perf_counter() - started, 3),
    }
    verdict = "promoted" if promoted else "rejected"
    record = PromotionRecord(
        created_at=datetime.now(UTC),
        model_name=model_name,
        action=verdict,
        champion_before=champion,
        champion_after=challenger if promoted else champion,
        challenger_version=challenger,
        actor=actor,
        retrain_request_id=retrain_request_id,
        drift_run_id=drift_run_id,
        summary=_summary(decision.promote, promote, decision.summary),
        evidence=evidence,
    )
    session.add(record)
    await session.flush()
    analytics.ctx.publish(
        "promotions",
        f"promotion.{verdict}",
        {"record_id": record.id, "model_name": model_name, "champion": record.champion_after, "challenger": challenger},
    )
    logger.info("analytics.promotion.%s", verdict, extra={"model_name": model_name, "challenger": challenger})
    return record


def _summary(passed: bool, asked: bool, text: str) -> str:
    if passed and not asked:
        return f"every criterion held, but promotion was not asked for (promote=false): {text}"
    return text


async def get_ledger(
    session: AsyncSession, *, model_name: str, limit: int, offset: int
) -> tuple[list[PromotionRecord], int]:
    query = select(PromotionRecord).where(PromotionRecord.model_name == model_name)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(PromotionRecord.id.desc()).limit(limit).offset(offset))
    return list(rows), total


async def get_champion_at(session: AsyncSession, *, model_name: str, at: datetime) -> PromotionRecord:
    """The ledger entry that set the champion in force at `at`: the last one at or before it."""
    record = await session.scalar(
        select(PromotionRecord)
        .where(
            PromotionRecord.model_name == model_name,
            PromotionRecord.created_at <= at,
            PromotionRecord.action.in_(("observed", "promoted")),
        )
        .order_by(PromotionRecord.created_at.desc(), PromotionRecord.id.desc())
        .limit(1)
    )
    if record is None:
        raise NotFoundError(
            f"the ledger of model {model_name!r} has no champion at or before {at.isoformat()}",
            details={"model_name": model_name, "at": at.isoformat()},
        )
    return record
