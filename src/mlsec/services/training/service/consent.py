"""Consent before training: a job on a dataset version holding subject hashes asks the data-privacy service
(through the SDK) which of those subjects lack consent for training, and is refused when any do.

One call per 10,000 hashes of each dataset the job uses (its evaluation dataset included). A dataset without
subject hashes never makes the call, so training works without the data-privacy service on data that holds no
identifier. `MLSEC_TRAINING_CONSENT_CHECK=off` skips the check; while it is `required`, a data-privacy service
that cannot answer refuses the job (503) rather than letting it train unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.client import MainAPIClient
from mlsec.client.base import ServiceCallError
from mlsec.services.training.errors import ConsentCheckUnavailableError, ConsentMissingError
from mlsec.services.training.models import Dataset, DatasetSubject

PURPOSE = "training"
CHUNK = 10_000  # the data-privacy service's limit of hashes per call
SHOWN = 20


class ConsentCheck:
    """The check as the service's settings configure it."""

    def __init__(self, sdk: MainAPIClient, mode: Literal["required", "off"]):
        self.sdk = sdk
        self.mode = mode

    async def ensure(self, session: AsyncSession, datasets: Sequence[Dataset]) -> None:
        """Return when every subject in `datasets` has consent for training (or the check is off); raise
        ConsentMissingError (409) naming the first dataset that has subjects without it, and
        ConsentCheckUnavailableError (503) when the data-privacy service cannot answer."""
        if self.mode == "off":
            return
        for dataset in datasets:
            query = select(DatasetSubject.value_hash).where(DatasetSubject.dataset_id == dataset.id).distinct()
            hashes = sorted((await session.execute(query)).scalars())
            if hashes:
                await self._ensure_dataset(dataset, hashes)

    async def _ensure_dataset(self, dataset: Dataset, hashes: list[str]) -> None:
        missing: list[str] = []
        count = 0
        for start in range(0, len(hashes), CHUNK):
            try:
                answer = await self.sdk.data_privacy.check_consent(
                    purpose=PURPOSE, value_hashes=hashes[start : start + CHUNK]
                )
            except ServiceCallError as exc:
                raise ConsentCheckUnavailableError(dataset.name, dataset.version, _problem(exc)) from exc
            count += int(answer.get("count", 0))
            missing.extend(str(subject) for subject in answer.get("subjects_without_consent", [])[:SHOWN])
        if count:
            raise ConsentMissingError(dataset.name, dataset.version, missing[:SHOWN], count)


def _problem(exc: ServiceCallError) -> str:
    if exc.status_code is None:
        return f"the data-privacy service is unreachable ({exc.error_type.replace('_', ' ')})"
    return f"the data-privacy service answered the consent check with HTTP {exc.status_code}"
