"""Anonymization: `POST /anonymize`, `POST /anonymize/batch` (seed 000) and `POST /anonymize/decrypt` (admin only
at the gateway; every decryption is in the audit log)."""

from collections.abc import Mapping

from fastapi import APIRouter

from mlsec.core.openapi import error_responses
from mlsec.ml.pii.anonymize import Operator
from mlsec.services.data_privacy.dependencies import CallerDep, PrivacyDep, SessionDep
from mlsec.services.data_privacy.schemas.anonymize import (
    AnonymizeRequest,
    AnonymizeResult,
    BatchRequest,
    BatchResult,
    DecryptRequest,
    DecryptResult,
    ReplacementRead,
)
from mlsec.services.data_privacy.service import anonymize, audit, limits
from mlsec.services.data_privacy.service.anonymize import Result

router = APIRouter(tags=["anonymization"])


def _operators(body: AnonymizeRequest | BatchRequest) -> Operator | Mapping[str, Operator]:
    limits.check_entities(body.entities)
    if body.operators:
        limits.check_entities(list(body.operators))
        chosen: dict[str, Operator] = dict.fromkeys(limits.known_entities(), body.operator)
        chosen.update((str(kind), operator) for kind, operator in body.operators.items())
        return chosen
    return body.operator


def _read(result: Result) -> AnonymizeResult:
    items = [
        ReplacementRead(type=i.type, start=i.start, end=i.end, operator=i.operator) for i in result.anonymized.items
    ]
    return AnonymizeResult(text=result.anonymized.text, items=items, findings=result.findings)


@router.post("/anonymize", response_model=AnonymizeResult, responses=error_responses(413, 422))
async def create_anonymized(body: AnonymizeRequest, privacy: PrivacyDep) -> AnonymizeResult:
    """The text with every finding replaced by its operator, and where each replacement stands."""
    limits.check_texts(privacy, [body.text])
    results = await anonymize.create(
        privacy,
        [body.text],
        operators=_operators(body),
        entities=body.entities,
        keep_last=body.keep_last,
        subject_id=body.subject_id,
    )
    return _read(results[0])


@router.post("/anonymize/batch", response_model=BatchResult, responses=error_responses(413, 422))
async def create_anonymized_batch(body: BatchRequest, privacy: PrivacyDep) -> BatchResult:
    """Many texts, with pseudonyms consistent across the batch."""
    limits.check_texts(privacy, body.texts)
    results = await anonymize.create(
        privacy, body.texts, operators=_operators(body), entities=body.entities, keep_last=body.keep_last
    )
    read = [_read(r) for r in results]
    return BatchResult(results=read, count=len(read), findings=sum(r.findings for r in read))


@router.post("/anonymize/decrypt", response_model=DecryptResult, responses=error_responses(422))
async def create_decryption(
    body: DecryptRequest, privacy: PrivacyDep, session: SessionDep, caller: CallerDep
) -> DecryptResult:
    """The value an `encrypt` token holds; 422 for a token not made with this deployment's key, or changed."""
    value = await anonymize.decrypt(session, privacy, body.token, reason=body.reason, caller=caller)
    head = await audit.head(session)
    return DecryptResult(value=value, audit_seq=head)
