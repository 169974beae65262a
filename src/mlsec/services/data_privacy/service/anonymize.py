"""Anonymization of one text or a batch (one pseudonym book for the whole batch, or the subject's own), and the
decryption of an `encrypt` token, which is written to the audit log with who asked and why."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import InvalidInputError
from mlsec.ml.pii.anonymize import AnonymizationError, Anonymized, Anonymizer, Operator, Pseudonyms
from mlsec.ml.pii.engine import PiiEngine
from mlsec.services.data_privacy.service import audit
from mlsec.services.data_privacy.state import Privacy


class SubjectPseudonyms(Pseudonyms):
    """Pseudonyms of one subject, the same in every request without a stored book: `<TYPE_xxxxxxxx>` from the
    keyed hash of the subject, the type and the value (no value is kept; without the key none can be checked)."""

    def __init__(self, key: bytes, subject_id: str):
        super().__init__()
        self._key = key
        self._subject = subject_id

    def of(self, kind: str, value: str) -> str:
        message = f"{self._subject}\x00{kind}\x00{value.casefold()}".encode()
        return f"<{kind}_{hmac.new(self._key, message, hashlib.sha256).hexdigest()[:8]}>"


@dataclass(frozen=True)
class Result:
    anonymized: Anonymized
    findings: int


def _anonymize_all(
    engine: PiiEngine,
    anonymizer: Anonymizer,
    texts: Sequence[str],
    operators: Operator | Mapping[str, Operator],
    book: Pseudonyms,
) -> list[Result]:
    results = []
    for text in texts:
        findings = engine.scan(text)
        results.append(Result(anonymizer.anonymize(text, findings, operators, pseudonyms=book), len(findings)))
    return results


async def create(
    privacy: Privacy,
    texts: Sequence[str],
    *,
    operators: Operator | Mapping[str, Operator],
    entities: Sequence[str] | None,
    keep_last: int,
    subject_id: str | None = None,
) -> list[Result]:
    """Every text anonymized, in a worker thread. Pseudonyms are consistent within the request (`<EMAIL_ADDRESS_1>`
    is the same address in every text of a batch) or, with `subject_id`, within the subject across requests."""
    engine = privacy.engine_for(entities, None)
    book = Pseudonyms() if subject_id is None else SubjectPseudonyms(privacy.keys.hash_key, subject_id)
    try:
        return await anyio.to_thread.run_sync(
            _anonymize_all, engine, privacy.anonymizer(keep_last), list(texts), operators, book
        )
    except AnonymizationError as exc:
        raise InvalidInputError(str(exc)) from exc


async def decrypt(session: AsyncSession, privacy: Privacy, token: str, *, reason: str, caller: str) -> str:
    """The value behind a token; the audit entry records who, why and a fingerprint of the token (not the value)."""
    try:
        value = privacy.anonymizer().decrypt(token)
    except AnonymizationError as exc:
        raise InvalidInputError(str(exc)) from exc
    await audit.create(
        session,
        actor=caller,
        action="privacy.decrypt",
        target=privacy.text_hash(token)[:16],
        details={"reason": reason, "token_fingerprint": privacy.text_hash(token)[:16]},
    )
    return value
