"""Data subjects: registered by identifiers kept as keyed hashes, found in every store by those hashes, and
erased from every store through its API (`delete`), which also asks for the retrain of every model version
trained on their rows, withdraws their consents and records the erasure in the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import ConflictError, InvalidInputError
from mlsec.ml.pii.subjects import IDENTIFYING_TYPES, subject_hash
from mlsec.services.data_privacy.errors import SubjectNotFoundError
from mlsec.services.data_privacy.models import DataSubject, Erasure, SubjectIdentifier, utcnow
from mlsec.services.data_privacy.service import audit, consent, stores
from mlsec.services.data_privacy.state import Privacy

MAX_IDENTIFIERS = 1000  # one call to each store then asks for all of them (its limit is 10,000 hashes)


@dataclass(frozen=True)
class Identifier:
    type: str
    value: str


async def create(
    session: AsyncSession,
    privacy: Privacy,
    subject_id: str,
    identifiers: Sequence[Identifier],
    *,
    note: str | None,
    caller: str,
) -> tuple[DataSubject, list[SubjectIdentifier], bool]:
    """Register a subject, or add identifiers to one; (subject, identifiers, created)."""
    unknown = sorted({i.type for i in identifiers} - IDENTIFYING_TYPES)
    if unknown:
        raise InvalidInputError(
            f"identifier types {unknown} do not identify a person here; use: {', '.join(sorted(IDENTIFYING_TYPES))}"
        )
    subject = await session.get(DataSubject, subject_id)
    created = subject is None
    if subject is None:
        subject = DataSubject(id=subject_id, status="active", note=note, created_by=caller)
        session.add(subject)
    elif subject.status == "erased":
        raise ConflictError(f"data subject {subject_id!r} was erased; register the person under a new id")
    elif note is not None:
        subject.note = note
    known = {row.value_hash for row in await get_identifiers(session, subject_id)}
    if len(known) + len(identifiers) > MAX_IDENTIFIERS:
        raise InvalidInputError(
            f"a subject has at most {MAX_IDENTIFIERS} identifiers; {subject_id!r} has {len(known)}",
            details={"subject_id": subject_id, "identifiers": len(known), "limit": MAX_IDENTIFIERS},
        )
    for identifier in identifiers:
        digest = subject_hash(privacy.keys.hash_key, identifier.type, identifier.value)
        if digest not in known:
            known.add(digest)
            session.add(SubjectIdentifier(subject_id=subject_id, entity_type=identifier.type, value_hash=digest))
    await session.flush()
    await audit.create(
        session,
        actor=caller,
        action="subject.registered" if created else "subject.updated",
        target=subject_id,
        details={"identifier_types": sorted({i.type for i in identifiers}), "identifiers": len(identifiers)},
    )
    return subject, await get_identifiers(session, subject_id), created


async def get_identifiers(session: AsyncSession, subject_id: str) -> list[SubjectIdentifier]:
    rows = await session.execute(
        select(SubjectIdentifier).where(SubjectIdentifier.subject_id == subject_id).order_by(SubjectIdentifier.id)
    )
    return list(rows.scalars())


async def get_or_raise(session: AsyncSession, subject_id: str) -> DataSubject:
    subject = await session.get(DataSubject, subject_id)
    if subject is None:
        raise SubjectNotFoundError(subject_id)
    return subject


async def get_all(
    session: AsyncSession, *, status: str | None, limit: int, offset: int
) -> tuple[list[tuple[DataSubject, int]], int]:
    """Subjects newest first with their identifier counts, and the total that matched."""
    query = select(DataSubject)
    if status is not None:
        query = query.where(DataSubject.status == status)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    counts = (
        select(SubjectIdentifier.subject_id, func.count().label("n")).group_by(SubjectIdentifier.subject_id).subquery()
    )
    rows = await session.execute(
        query.add_columns(func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.subject_id == DataSubject.id)
        .order_by(DataSubject.created_at.desc(), DataSubject.id)
        .limit(limit)
        .offset(offset)
    )
    return [(subject, int(n)) for subject, n in rows.all()], int(total)


async def lineage(session: AsyncSession, privacy: Privacy, subject_id: str) -> dict[str, stores.Answer]:
    """Where the subject's data is now, asked of every store."""
    hashes = [row.value_hash for row in await get_identifiers(session, subject_id)]
    return await stores.subjects(privacy, hashes, erase=False, retrain=False)


async def delete(session: AsyncSession, privacy: Privacy, subject_id: str, *, retrain: bool, caller: str) -> Erasure:
    """Erase the subject's rows from every store, ask for retrains, withdraw every consent, record it all.

    The subject is `erased` only when every store answered; otherwise `erasure_pending`, and a repeat of the
    request finishes the work (each store's erase is idempotent)."""
    subject = await get_or_raise(session, subject_id)
    hashes = [row.value_hash for row in await get_identifiers(session, subject_id)]
    answers = await stores.subjects(privacy, hashes, erase=True, retrain=retrain)
    complete = all(answer.ok for answer in answers.values())
    report: dict[str, Any] = {
        "identifiers": len(hashes),
        "stores": {name: answer.as_dict() for name, answer in answers.items()},
        "retrain_jobs": (answers[stores.DATASET_STORE].body or {}).get("retrain_jobs", [])
        if stores.DATASET_STORE in answers
        else [],
    }
    erasure = Erasure(
        subject_id=subject_id, status="completed" if complete else "partial", requested_by=caller, report=report
    )
    session.add(erasure)
    withdrawn = await consent.withdraw(session, privacy, subject_id, None, caller=caller, source="erasure")
    report["consents_withdrawn"] = len(withdrawn)
    subject.status = "erased" if complete else "erasure_pending"
    subject.erased_at = utcnow() if complete else None
    await session.flush()
    await audit.create(
        session,
        actor=caller,
        action="subject.erased" if complete else "subject.erasure_partial",
        target=subject_id,
        details={
            "erasure_id": erasure.id,
            "rows_removed": {name: (a.body or {}).get("rows_removed", 0) for name, a in answers.items()},
            "unreachable": [name for name, a in answers.items() if not a.ok],
            "retrain_jobs": report["retrain_jobs"],
        },
    )
    return erasure
