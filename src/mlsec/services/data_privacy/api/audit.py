"""The audit log: its entries and the verification of its hash chain."""

from fastapi import APIRouter, Query

from mlsec.core.limits import UtcDatetime
from mlsec.services.data_privacy.dependencies import Limit, Offset, SessionDep
from mlsec.services.data_privacy.schemas.audit import AuditPage, AuditRead, VerifyRead
from mlsec.services.data_privacy.service import audit

router = APIRouter(tags=["audit"])


@router.get("/audit/logs", response_model=AuditPage)
async def get_logs(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    action: str | None = Query(None, max_length=64),
    actor: str | None = Query(None, max_length=100),
    since: UtcDatetime | None = Query(None, description="Entries from this time on (ISO 8601)."),  # noqa: B008
) -> AuditPage:
    """Entries newest first: who did what to what, with each entry's hash and its predecessor's."""
    entries, total = await audit.get_all(session, action=action, actor=actor, since=since, limit=limit, offset=offset)
    return AuditPage(items=[AuditRead.model_validate(e) for e in entries], total=total, limit=limit, offset=offset)


@router.get("/audit/verify", response_model=VerifyRead)
async def verify(session: SessionDep) -> VerifyRead:
    """Walk the chain: `valid`, or the first entry that breaks it and why."""
    result = await audit.verify(session)
    return VerifyRead(
        valid=result.valid,
        entries=result.entries,
        first_seq=result.first_seq,
        head_seq=result.head_seq,
        broken_seq=result.broken_seq,
        broken_id=result.broken_id,
        reason=result.reason,
    )
