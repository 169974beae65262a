"""A subject's detail: who they are to the platform (identifier hashes, consents, erasures) and where their data
is now, asked of every store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.data_privacy.models import Erasure
from mlsec.services.data_privacy.schemas.subjects import (
    ConsentInForce,
    ErasureRead,
    IdentifierRead,
    StoreAnswer,
    SubjectDetail,
    SubjectRead,
)
from mlsec.services.data_privacy.service import consent, stores, subjects
from mlsec.services.data_privacy.state import Privacy


def _rows(answer: stores.Answer) -> int | None:
    """A prediction log's row count for the subject, or None when the store could not be asked."""
    return None if answer.body is None else int(answer.body.get("rows", 0))


async def detail(session: AsyncSession, privacy: Privacy, subject_id: str) -> SubjectDetail:
    subject = await subjects.get_or_raise(session, subject_id)
    identifiers = await subjects.get_identifiers(session, subject_id)
    answers = await stores.subjects(privacy, [i.value_hash for i in identifiers], erase=False, retrain=False)
    training: dict[str, Any] = (answers.get(stores.DATASET_STORE) or stores.Answer("training", {})).body or {}
    erasures = await session.execute(select(Erasure).where(Erasure.subject_id == subject_id).order_by(Erasure.id))
    return SubjectDetail(
        **SubjectRead.model_validate(subject).model_dump(),
        identifiers=[IdentifierRead.model_validate(i) for i in identifiers],
        consents={
            purpose: ConsentInForce(granted=c.granted, version=c.version, recorded_at=c.recorded_at)
            for purpose, c in (await consent.current(session, subject_id)).items()
        },
        datasets=list(training.get("datasets", [])),
        models=list(training.get("models", [])),
        prediction_log_rows={name: _rows(answers[name]) for name in stores.PREDICTION_LOG_STORES if name in answers},
        stores=[StoreAnswer(**a.as_dict()) for a in answers.values()],
        erasures=[ErasureRead.model_validate(e).model_dump() for e in erasures.scalars()],
    )
