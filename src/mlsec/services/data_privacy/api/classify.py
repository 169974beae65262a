"""Classification: `POST /classify` and `GET /classify/history` (seed 000)."""

from fastapi import APIRouter, Query

from mlsec.core.openapi import error_responses
from mlsec.ml.pii.classification import Level
from mlsec.services.data_privacy.dependencies import CallerDep, Limit, Offset, PrivacyDep, SessionDep
from mlsec.services.data_privacy.schemas.classify import (
    ClassifyRequest,
    ClassifyResult,
    FindingRead,
    HistoryItem,
    HistoryPage,
)
from mlsec.services.data_privacy.service import classify, limits

router = APIRouter(tags=["classification"])


@router.post("/classify", response_model=ClassifyResult, responses=error_responses(413, 422))
async def create_classification(
    body: ClassifyRequest, privacy: PrivacyDep, session: SessionDep, caller: CallerDep
) -> ClassifyResult:
    """The text's PII findings and sensitivity level with reasons; the history keeps the result, not the text."""
    limits.check_texts(privacy, [body.text])
    limits.check_entities(body.entities)
    done = await classify.create(
        session, privacy, body.text, entities=body.entities, threshold=body.threshold, caller=caller
    )
    return ClassifyResult(
        id=done.record.id,
        level=done.verdict.level,
        reasons=done.verdict.reasons,
        counts=done.verdict.counts,
        findings=[
            FindingRead(type=f.type, start=f.start, end=f.end, score=f.score, rule=f.rule) for f in done.findings
        ],
        text_length=done.record.text_length,
        classified_at=done.record.created_at,
    )


@router.get("/classify/history", response_model=HistoryPage)
async def get_history(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    level: Level | None = Query(None, description="Only this level."),  # noqa: B008
) -> HistoryPage:
    """Past classifications, newest first: level, reasons, counts, the text's keyed hash and length."""
    items, total = await classify.get_all(session, level=level, limit=limit, offset=offset)
    return HistoryPage(items=[HistoryItem.model_validate(i) for i in items], total=total, limit=limit, offset=offset)
