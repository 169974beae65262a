"""Retention: policies, status and the clean-up across every store (seed 000's `/retention/...`)."""

from fastapi import APIRouter, Path

from mlsec.core.openapi import error_responses
from mlsec.services.data_privacy.dependencies import CallerDep, PrivacyDep, SessionDep
from mlsec.services.data_privacy.models import utcnow
from mlsec.services.data_privacy.schemas.retention import (
    CategoryOutcome,
    CleanupRequest,
    CleanupResult,
    PolicyList,
    PolicyRead,
    PolicyUpdate,
    RetentionStatus,
)
from mlsec.services.data_privacy.schemas.types import Category
from mlsec.services.data_privacy.service import retention
from mlsec.services.data_privacy.service.retention import Outcome, Policy

router = APIRouter(tags=["retention"])
CategoryPath = Path(description="prediction_logs, datasets, classifications or audit.")


def _policy(p: Policy) -> PolicyRead:
    return PolicyRead(
        category=p.category,
        max_age_days=p.max_age_days,
        source=p.source,
        updated_at=p.updated_at,
        updated_by=p.updated_by,
    )


def _outcome(o: Outcome) -> CategoryOutcome:
    return CategoryOutcome(
        category=o.category,
        max_age_days=o.max_age_days,
        cutoff=o.cutoff,
        matched=o.matched,
        deleted=o.deleted,
        complete=o.complete,
        stores=o.stores,
    )


@router.get("/retention/policies", response_model=PolicyList)
async def get_policies(privacy: PrivacyDep, session: SessionDep) -> PolicyList:
    """Each category's retention period: set through the API, else the settings' default."""
    return PolicyList(policies=[_policy(p) for p in await retention.get_all(session, privacy)])


@router.put("/retention/policies/{category}", response_model=PolicyRead, responses=error_responses(422))
async def update_policy(
    body: PolicyUpdate, privacy: PrivacyDep, session: SessionDep, caller: CallerDep, category: Category = CategoryPath
) -> PolicyRead:
    """Set a category's period in days (null: keep forever); audited."""
    return _policy(await retention.update(session, privacy, category, body.max_age_days, caller=caller))


@router.get("/retention/status", response_model=RetentionStatus)
async def get_status(privacy: PrivacyDep, session: SessionDep) -> RetentionStatus:
    """How much of each category is past its period now, in every store (a dry run of the clean-up)."""
    outcomes = await retention.apply(session, privacy, None, dry_run=True)
    return RetentionStatus(
        checked_at=utcnow(), categories=[_outcome(o) for o in outcomes], overdue=sum(o.matched for o in outcomes)
    )


@router.post("/retention/cleanup", response_model=CleanupResult, responses=error_responses(422))
async def cleanup(body: CleanupRequest, privacy: PrivacyDep, session: SessionDep, caller: CallerDep) -> CleanupResult:
    """Delete what is past its period in every store through its API (`dry_run` true, the default, only counts);
    audited. A store that cannot be reached is reported (`complete` false) and keeps its data."""
    outcomes = await retention.apply(session, privacy, body.categories, dry_run=body.dry_run, caller=caller)
    return CleanupResult(
        checked_at=utcnow(),
        categories=[_outcome(o) for o in outcomes],
        overdue=sum(o.matched for o in outcomes),
        dry_run=body.dry_run,
        deleted=sum(o.deleted for o in outcomes),
    )
