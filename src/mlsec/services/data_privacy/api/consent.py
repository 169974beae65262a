"""Consent: record, status, withdraw (seed 000) and the check training makes before it uses a dataset."""

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.services.data_privacy.dependencies import CallerDep, PrivacyDep, SessionDep, SubjectIdPath
from mlsec.services.data_privacy.schemas.consent import (
    ConsentCheck,
    ConsentCheckResult,
    ConsentRead,
    ConsentRecord,
    ConsentStatus,
    ConsentWithdraw,
    WithdrawResult,
)
from mlsec.services.data_privacy.service import consent, subjects

router = APIRouter(tags=["consent"])


@router.post("/consent/record", response_model=ConsentRead, status_code=201, responses=error_responses(404, 409, 422))
async def create_consent(
    body: ConsentRecord, privacy: PrivacyDep, session: SessionDep, caller: CallerDep
) -> ConsentRead:
    """A new version of the subject's consent for a purpose (granted or refused); 404 for an unknown subject."""
    subject = await subjects.get_or_raise(session, body.subject_id)
    record = await consent.create(
        session,
        privacy,
        subject,
        body.purpose,
        granted=body.granted,
        source=body.source,
        policy_version=body.policy_version,
        caller=caller,
    )
    return ConsentRead.model_validate(record)


@router.get("/consent/status/{user_id}", response_model=ConsentStatus, responses=error_responses(404))
async def get_consent_status(user_id: SubjectIdPath, session: SessionDep) -> ConsentStatus:
    """The consent in force per purpose, and every version before it."""
    subject = await subjects.get_or_raise(session, user_id)
    in_force = await consent.current(session, user_id)
    return ConsentStatus(
        subject_id=user_id,
        subject_status=subject.status,
        purposes={p: ConsentRead.model_validate(c) for p, c in sorted(in_force.items())},
        history=[ConsentRead.model_validate(c) for c in await consent.history(session, user_id)],
    )


@router.post("/consent/withdraw", response_model=WithdrawResult, responses=error_responses(404, 422))
async def withdraw_consent(
    body: ConsentWithdraw, privacy: PrivacyDep, session: SessionDep, caller: CallerDep
) -> WithdrawResult:
    """Withdraw consent for the purposes named (every granted one when none is named)."""
    await subjects.get_or_raise(session, body.subject_id)
    records = await consent.withdraw(session, privacy, body.subject_id, body.purposes, caller=caller)
    return WithdrawResult(subject_id=body.subject_id, withdrawn=[ConsentRead.model_validate(r) for r in records])


@router.post("/consent/check", response_model=ConsentCheckResult, responses=error_responses(422))
async def check_consent(body: ConsentCheck, privacy: PrivacyDep, session: SessionDep) -> ConsentCheckResult:
    """Which registered subjects among these keyed hashes have no consent for the purpose in force."""
    result = await consent.check(session, privacy, body.purpose, body.value_hashes)
    return ConsentCheckResult(
        purpose=result.purpose,
        subjects_without_consent=result.subjects_without_consent,
        count=len(result.subjects_without_consent),
        subjects_with_consent=result.subjects_with_consent,
    )
