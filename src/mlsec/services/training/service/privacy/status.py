"""The totals of personal data the training service holds: what the data-privacy service's compliance reads."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.training.models import Dataset, DatasetSubject
from mlsec.services.training.schemas.privacy import PrivacyStatus


async def get(session: AsyncSession) -> PrivacyStatus:
    """Dataset versions, those with PII, findings per type over all versions, distinct subject hashes."""
    counts = (await session.execute(select(Dataset.pii_counts))).scalars().all()
    totals: Counter[str] = Counter()
    for found in counts:
        totals.update(found or {})
    hashes = select(func.count(func.distinct(DatasetSubject.value_hash)))
    return PrivacyStatus(
        datasets=len(counts),
        datasets_with_pii=sum(1 for found in counts if found),
        pii_counts=dict(sorted(totals.items())),
        subject_hashes=int((await session.execute(hashes)).scalar_one()),
    )
