"""Consent: per subject and purpose, versioned (every change is a new version; the newest is in force), with
withdrawal; and the check training makes before it uses a dataset whose rows hold registered subjects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import ConflictError
from mlsec.services.data_privacy.errors import UnknownPurposeError
from mlsec.services.data_privacy.models import Consent, DataSubject, SubjectIdentifier
from mlsec.services.data_privacy.service import audit
from mlsec.services.data_privacy.state import Privacy


def check_purpose(privacy: Privacy, purpose: str) -> None:
    if purpose not in privacy.settings.purposes:
        raise UnknownPurposeError(purpose, privacy.settings.purposes)


async def current(session: AsyncSession, subject_id: str) -> dict[str, Consent]:
    """The consent in force per purpose (the newest version of each)."""
    newest = (
        select(Consent.purpose, func.max(Consent.version).label("version"))
        .where(Consent.subject_id == subject_id)
        .group_by(Consent.purpose)
        .subquery()
    )
    rows = await session.execute(
        select(Consent)
        .join(newest, (Consent.purpose == newest.c.purpose) & (Consent.version == newest.c.version))
        .where(Consent.subject_id == subject_id)
    )
    return {row.purpose: row for row in rows.scalars()}


async def history(session: AsyncSession, subject_id: str) -> list[Consent]:
    rows = await session.execute(
        select(Consent).where(Consent.subject_id == subject_id).order_by(Consent.purpose, Consent.version)
    )
    return list(rows.scalars())


async def create(
    session: AsyncSession,
    privacy: Privacy,
    subject: DataSubject,
    purpose: str,
    *,
    granted: bool,
    source: str | None,
    policy_version: str | None,
    caller: str,
) -> Consent:
    """Record a new version of the subject's consent for `purpose` (not for an erased subject: 409)."""
    check_purpose(privacy, purpose)
    if subject.status == "erased":
        raise ConflictError(f"data subject {subject.id!r} was erased; consent cannot be recorded for them")
    in_force = (await current(session, subject.id)).get(purpose)
    record = Consent(
        subject_id=subject.id,
        purpose=purpose,
        version=(in_force.version + 1) if in_force else 1,
        granted=granted,
        source=source,
        policy_version=policy_version,
        recorded_by=caller,
    )
    session.add(record)
    await session.flush()
    await audit.create(
        session,
        actor=caller,
        action="consent.granted" if granted else "consent.refused",
        target=subject.id,
        details={"purpose": purpose, "version": record.version, "source": source, "policy_version": policy_version},
    )
    return record


async def withdraw(
    session: AsyncSession,
    privacy: Privacy,
    subject_id: str,
    purposes: Sequence[str] | None,
    *,
    caller: str,
    source: str | None = None,
) -> list[Consent]:
    """A withdrawal version for each purpose whose consent is in force and granted (all of them when None)."""
    for purpose in purposes or ():
        check_purpose(privacy, purpose)
    in_force = await current(session, subject_id)
    records = []
    for purpose, consent in sorted(in_force.items()):
        if consent.granted and (purposes is None or purpose in purposes):
            record = Consent(
                subject_id=subject_id,
                purpose=purpose,
                version=consent.version + 1,
                granted=False,
                source=source or "withdrawal",
                policy_version=consent.policy_version,
                recorded_by=caller,
            )
            session.add(record)
            records.append(record)
    await session.flush()
    if records:
        await audit.create(
            session,
            actor=caller,
            action="consent.withdrawn",
            target=subject_id,
            details={"purposes": [r.purpose for r in records], "source": source or "withdrawal"},
        )
    return records


@dataclass(frozen=True)
class Check:
    purpose: str
    subjects_without_consent: list[str]
    subjects_with_consent: int


async def check(session: AsyncSession, privacy: Privacy, purpose: str, hashes: Sequence[str]) -> Check:
    """Which registered, not erased subjects among these keyed hashes have no consent in force for `purpose`.

    Values of people never registered are not subjects here: they are counted by the stores as PII, and
    compliance reports them; only a registered subject can have given or withheld consent."""
    check_purpose(privacy, purpose)
    found: set[str] = set()
    unique = sorted(set(hashes))
    for start in range(0, len(unique), 1000):
        rows = await session.execute(
            select(SubjectIdentifier.subject_id)
            .join(DataSubject, DataSubject.id == SubjectIdentifier.subject_id)
            .where(SubjectIdentifier.value_hash.in_(unique[start : start + 1000]), DataSubject.status != "erased")
        )
        found.update(rows.scalars())
    missing = []
    for subject_id in sorted(found):
        consent = (await current(session, subject_id)).get(purpose)
        if consent is None or not consent.granted:
            missing.append(subject_id)
    return Check(purpose, missing, len(found) - len(missing))
