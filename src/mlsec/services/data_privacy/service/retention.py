"""Retention: a period per data category; the status says how much is past it in every store now, and the
clean-up deletes it for real, through each store's API (a dry run by default), and reports the counts.

Categories: `prediction_logs` (model API and model cache), `datasets` (training: never the newest version of a
dataset, never one a job is using), `classifications` (this service's history) and `audit` (this service's log,
cut from its oldest end with the cut recorded so the chain still verifies).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.data_privacy.errors import UnknownCategoryError
from mlsec.services.data_privacy.models import Classification, RetentionPolicy, utcnow
from mlsec.services.data_privacy.service import audit, classify, stores
from mlsec.services.data_privacy.settings import CATEGORIES
from mlsec.services.data_privacy.state import Privacy


@dataclass(frozen=True)
class Policy:
    category: str
    max_age_days: int | None
    source: str  # "default" (settings) or "set" (by someone, when)
    updated_at: datetime | None = None
    updated_by: str | None = None

    def cutoff(self, now: datetime) -> datetime | None:
        return None if self.max_age_days is None else now - timedelta(days=self.max_age_days)


def check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise UnknownCategoryError(category, CATEGORIES)


async def get_all(session: AsyncSession, privacy: Privacy) -> list[Policy]:
    """Every category's policy: the one set, else the settings' default."""
    stored = {row.category: row for row in (await session.execute(select(RetentionPolicy))).scalars()}
    policies = []
    for category in CATEGORIES:
        row = stored.get(category)
        if row is None:
            policies.append(Policy(category, privacy.settings.default_retention(category), "default"))
        else:
            policies.append(Policy(category, row.max_age_days, "set", row.updated_at, row.updated_by))
    return policies


async def update(
    session: AsyncSession, privacy: Privacy, category: str, max_age_days: int | None, *, caller: str
) -> Policy:
    check_category(category)
    row = await session.get(RetentionPolicy, category)
    before = row.max_age_days if row else privacy.settings.default_retention(category)
    if row is None:
        row = RetentionPolicy(category=category, max_age_days=max_age_days, updated_by=caller)
        session.add(row)
    else:
        row.max_age_days, row.updated_by, row.updated_at = max_age_days, caller, utcnow()
    await session.flush()
    await audit.create(
        session,
        actor=caller,
        action="retention.policy_set",
        target=category,
        details={"before_days": before, "max_age_days": max_age_days},
    )
    return Policy(category, max_age_days, "set", row.updated_at, caller)


@dataclass
class Outcome:
    """One category's count past its period (and deleted, when not a dry run), per store."""

    category: str
    max_age_days: int | None
    cutoff: datetime | None
    matched: int = 0
    deleted: int = 0
    stores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(store["ok"] for store in self.stores)


async def _own(session: AsyncSession, category: str, cutoff: datetime, dry_run: bool) -> tuple[int, int]:
    if category == "audit":
        matched = await audit.prune(session, before=cutoff, dry_run=dry_run)
        return matched, 0 if dry_run else matched
    matched = await classify.count_older(session, cutoff)
    if not dry_run and matched:
        await session.execute(delete(Classification).where(Classification.created_at < cutoff))
    return matched, 0 if dry_run else matched


async def apply(
    session: AsyncSession, privacy: Privacy, categories: Sequence[str] | None, *, dry_run: bool, caller: str = "api"
) -> list[Outcome]:
    """Count (dry run) or delete what is past its period in each category; a category without a period is
    reported and left alone."""
    for category in categories or ():
        check_category(category)
    now = utcnow()
    outcomes = []
    for policy in await get_all(session, privacy):
        if categories is not None and policy.category not in categories:
            continue
        cutoff = policy.cutoff(now)
        outcome = Outcome(policy.category, policy.max_age_days, cutoff)
        if cutoff is not None and policy.category in ("audit", "classifications"):
            outcome.matched, outcome.deleted = await _own(session, policy.category, cutoff, dry_run)
            outcome.stores.append({"store": "data-privacy", "ok": True, "answer": None, "error": None})
        elif cutoff is not None:
            for answer in await stores.retention(privacy, policy.category, cutoff, dry_run=dry_run):
                outcome.stores.append(answer.as_dict())
                outcome.matched += int((answer.body or {}).get("matched", 0))
                outcome.deleted += int((answer.body or {}).get("deleted", 0))
        outcomes.append(outcome)
    if not dry_run:
        await audit.create(
            session,
            actor=caller,
            action="retention.cleanup",
            details={o.category: {"matched": o.matched, "deleted": o.deleted} for o in outcomes},
        )
    return outcomes
