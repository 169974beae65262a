"""What the running data-privacy service holds: the PII engine for this deployment, the anonymizer with the
platform's keys, the SDK (the stores of personal data are other services) and the audit event subscription."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.core.pii_keys import PiiKeys
from mlsec.core.subscription import EventSubscription
from mlsec.ml.pii.anonymize import Anonymizer
from mlsec.ml.pii.engine import PiiEngine
from mlsec.services.data_privacy.settings import DataPrivacySettings


@dataclass
class Privacy:
    """Built in the lifespan; routes reach it through `PrivacyDep`."""

    ctx: ServiceContext
    settings: DataPrivacySettings
    keys: PiiKeys
    engine: PiiEngine
    sdk: MainAPIClient
    subscription: EventSubscription | None = None

    def anonymizer(self, keep_last: int = 4) -> Anonymizer:
        return Anonymizer(hash_key=self.keys.hash_key, encryption_key=self.keys.encryption_key, keep_last=keep_last)

    def engine_for(self, entities: Sequence[str] | None, threshold: float | None) -> PiiEngine:
        """The deployment's engine, narrowed to some types or another threshold for one request."""
        if entities is None and threshold is None:
            return self.engine
        return PiiEngine(
            types=list(entities) if entities is not None else self.engine.types,
            threshold=self.engine.threshold if threshold is None else threshold,
            allow=self.engine.allow,
            deny=self.engine.deny,
            region=self.engine.region,
        )

    def text_hash(self, text: str) -> str:
        """The keyed hash the classification history keeps instead of a text."""
        return hmac.new(self.keys.hash_key, text.encode(), hashlib.sha256).hexdigest()

    async def close(self) -> None:
        if self.subscription is not None:
            await self.subscription.stop()
