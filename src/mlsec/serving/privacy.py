"""The serving layer's privacy edge: what its prediction log keeps, and the data-privacy service's hands on it.

When a serving service stores input text, it stores `storage_anonymizer`'s output, never the raw text: each
identifying value becomes `<TYPE:keyed hash>` (mlsec.ml.pii.subjects), anything else personal `<TYPE>`. That
token is what lets erasure find a person's rows without the log ever holding who they are: the data-privacy
service hashes a subject's identifiers with the same deployment key and asks `get_subject_rows` /
`delete_subject_rows` for the rows carrying those hashes. Retention deletes rows by age. Both delete in batches
(prediction_log.DELETE_BATCH), so a big log is never locked for long.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from mlsec.ml.pii.engine import PiiEngine
from mlsec.ml.pii.subjects import anonymize_for_storage
from mlsec.serving import prediction_log
from mlsec.serving.privacy_schemas import PrivacyStatus, RetentionResult, SubjectRows
from mlsec.serving.state import ServingState

logger = logging.getLogger("mlsec.serving.privacy")


def storage_anonymizer(hash_key: bytes, engine: PiiEngine | None = None) -> Callable[[str], str]:
    """The text the prediction log stores for an input: its findings replaced, identifying ones by keyed hash.

    Runs in the log writer's thread (mlsec.serving.records), never on the request path; the engine is pure
    and safe to share between threads."""
    scanner = engine or PiiEngine()

    def anonymize(text: str) -> str:
        return anonymize_for_storage(text, scanner.scan(text), hash_key).text

    return anonymize


async def get_status(serving: ServingState) -> PrivacyStatus:
    """The settings that decide what is stored, and how much the log holds."""
    stats = await prediction_log.get_stats(serving.log.db, serving.log.table)
    return PrivacyStatus(
        store_text=serving.settings.store_text,
        anonymize_text=serving.settings.anonymize_text,
        rows=stats.rows,
        rows_with_text=stats.rows_with_text,
        oldest=stats.oldest,
    )


async def get_subject_rows(serving: ServingState, value_hashes: Collection[str]) -> SubjectRows:
    """How many rows carry any of the subject hashes; nothing is changed."""
    ids = await prediction_log.get_ids_carrying(serving.log.db, serving.log.table, value_hashes)
    return SubjectRows(rows=len(ids), rows_removed=0)


async def delete_subject_rows(serving: ServingState, value_hashes: Collection[str]) -> SubjectRows:
    """Delete every row that carries any of the subject hashes (erasure); how many were found and removed."""
    ids = await prediction_log.get_ids_carrying(serving.log.db, serving.log.table, value_hashes)
    removed = await prediction_log.delete_ids(serving.log.db, serving.log.table, ids) if ids else 0
    logger.info("serving.privacy.erased", extra={"rows": len(ids), "rows_removed": removed})
    return SubjectRows(rows=len(ids), rows_removed=removed)


async def get_expired(serving: ServingState, older_than: datetime) -> RetentionResult:
    """The dry run of a retention cleanup: how many rows are older than the cutoff."""
    matched = await prediction_log.get_count_older_than(serving.log.db, serving.log.table, older_than)
    return RetentionResult(matched=matched, deleted=0)


async def delete_expired(serving: ServingState, older_than: datetime) -> RetentionResult:
    """Delete the rows older than the cutoff, in batches; how many matched and how many went."""
    matched = await prediction_log.get_count_older_than(serving.log.db, serving.log.table, older_than)
    deleted = await prediction_log.delete_older_than(serving.log.db, serving.log.table, older_than) if matched else 0
    logger.info("serving.privacy.retention.deleted", extra={"matched": matched, "deleted": deleted})
    return RetentionResult(matched=matched, deleted=deleted)
