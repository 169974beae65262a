"""Counts of what the service keeps, for `GET /` and the dashboard."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.data_privacy.models import AuditEntry, Classification, Consent, DataSubject, Erasure

_COUNTED = {
    "subjects": DataSubject,
    "classifications": Classification,
    "consents": Consent,
    "erasures": Erasure,
    "audit_entries": AuditEntry,
}


async def get_counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for name, table in _COUNTED.items():
        counts[name] = int((await session.execute(select(func.count()).select_from(table))).scalar_one())
    return counts
