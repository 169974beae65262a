"""Data subjects: register, list, see where their data is, erase (seed 000's `/data-subjects`)."""

from typing import Any

from fastapi import APIRouter, Query, Response

from mlsec.core.openapi import error_responses
from mlsec.core.telemetry import annotate_span
from mlsec.services.data_privacy.dependencies import (
    CallerDep,
    Limit,
    Offset,
    PrivacyDep,
    SessionDep,
    SubjectIdPath,
)
from mlsec.services.data_privacy.schemas.subjects import (
    ErasureRead,
    IdentifierRead,
    SubjectCreate,
    SubjectCreated,
    SubjectDetail,
    SubjectPage,
    SubjectRead,
    SubjectSummary,
)
from mlsec.services.data_privacy.service import subjects
from mlsec.services.data_privacy.service.lineage import detail
from mlsec.services.data_privacy.service.subjects import Identifier

router = APIRouter(tags=["data subjects"])


CREATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SubjectCreated, "description": "Identifiers added to a known subject."},
    **error_responses(409, 422),
}


@router.post("/data-subjects", response_model=SubjectCreated, status_code=201, responses=CREATE_RESPONSES)
async def create_subject(
    body: SubjectCreate, response: Response, privacy: PrivacyDep, session: SessionDep, caller: CallerDep
) -> SubjectCreated:
    """Register a person (201), or add identifiers to one (200); values are kept only as keyed hashes."""
    subject, identifiers, created = await subjects.create(
        session,
        privacy,
        body.subject_id,
        [Identifier(i.type, i.value) for i in body.identifiers],
        note=body.note,
        caller=caller,
    )
    response.status_code = 201 if created else 200
    return SubjectCreated(
        **SubjectRead.model_validate(subject).model_dump(),
        identifiers=[IdentifierRead.model_validate(i) for i in identifiers],
        created=created,
    )


@router.get("/data-subjects", response_model=SubjectPage)
async def get_subjects(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status: str | None = Query(None, pattern=r"^(active|erasure_pending|erased)$"),
) -> SubjectPage:
    """Registered subjects, newest first, with how many identifiers each has."""
    rows, total = await subjects.get_all(session, status=status, limit=limit, offset=offset)
    items = [SubjectSummary(**SubjectRead.model_validate(s).model_dump(), identifiers=n) for s, n in rows]
    return SubjectPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/data-subjects/{subject_id}", response_model=SubjectDetail, responses=error_responses(404))
async def get_subject(subject_id: SubjectIdPath, privacy: PrivacyDep, session: SessionDep) -> SubjectDetail:
    """The subject, their consents and erasures, and where their data is now: dataset versions, the model
    versions trained on them, prediction log rows (each store asked now; one that cannot be reached says so)."""
    return await detail(session, privacy, subject_id)


@router.delete("/data-subjects/{subject_id}", response_model=ErasureRead, responses=error_responses(404))
async def delete_subject(
    subject_id: SubjectIdPath,
    privacy: PrivacyDep,
    session: SessionDep,
    caller: CallerDep,
    retrain: bool = Query(True, description="Queue a retrain of every model version trained on their rows."),
) -> ErasureRead:
    """Erasure: the subject's rows removed from every dataset version and prediction log through each service's
    API, retrains asked for, consents withdrawn, all recorded; `status` is `partial` when a store could not be
    reached (repeat the request to finish)."""
    erasure = await subjects.delete(session, privacy, subject_id, retrain=retrain, caller=caller)
    annotate_span({"mlsec.erasure.id": erasure.id})  # the erasure's id only: never the subject's
    return ErasureRead.model_validate(erasure)
