"""Compliance: the checks on the platform's real state and the violations they find (seed 000)."""

from fastapi import APIRouter

from mlsec.services.data_privacy.dependencies import PrivacyDep, SessionDep
from mlsec.services.data_privacy.models import utcnow
from mlsec.services.data_privacy.schemas.compliance import CheckRead, ComplianceStatus, ViolationList, ViolationRead
from mlsec.services.data_privacy.service import compliance

router = APIRouter(tags=["compliance"])


@router.get("/compliance/status", response_model=ComplianceStatus)
async def get_status(privacy: PrivacyDep, session: SessionDep) -> ComplianceStatus:
    """`compliant`, `non_compliant` or `unknown` (a store could not be asked), with every check's outcome."""
    report = await compliance.evaluate(session, privacy)
    return ComplianceStatus(
        status=report.status,
        checked_at=utcnow(),
        checks=[CheckRead(name=c.name, status=c.status, detail=c.detail) for c in report.checks],
        violations=len(report.violations),
    )


@router.get("/compliance/violations", response_model=ViolationList)
async def get_violations(privacy: PrivacyDep, session: SessionDep) -> ViolationList:
    """What breaks a rule now, most severe first, each with what to do about it."""
    report = await compliance.evaluate(session, privacy)
    items = [
        ViolationRead(check=v.check, severity=v.severity, message=v.message, remedy=v.remedy, details=v.details)
        for v in report.violations
    ]
    return ViolationList(checked_at=utcnow(), violations=items, count=len(items))
