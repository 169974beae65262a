"""Request limits of the data-privacy service beyond the schemas': text sizes and batch sizes from settings, and
entity types the engine knows."""

from __future__ import annotations

from collections.abc import Sequence

from mlsec.core.errors import InvalidInputError, PayloadTooLargeError
from mlsec.ml.pii.engine import RECOGNIZERS
from mlsec.ml.pii.findings import DENY_LIST
from mlsec.services.data_privacy.state import Privacy


def check_texts(privacy: Privacy, texts: Sequence[str]) -> None:
    """413 for a batch or a text over the limits (named, with the limit)."""
    settings = privacy.settings
    if len(texts) > settings.max_batch_texts:
        raise PayloadTooLargeError(
            f"{len(texts)} texts in one batch; at most {settings.max_batch_texts} (MLSEC_DATA_PRIVACY_MAX_BATCH_TEXTS)"
        )
    for index, text in enumerate(texts):
        if len(text) > settings.max_text_chars:
            raise PayloadTooLargeError(
                f"text {index} has {len(text)} characters; at most {settings.max_text_chars} "
                "(MLSEC_DATA_PRIVACY_MAX_TEXT_CHARS)",
                details={"index": index, "length": len(text), "limit": settings.max_text_chars},
            )


def known_entities() -> list[str]:
    return sorted({*RECOGNIZERS, DENY_LIST})


def check_entities(entities: Sequence[str] | None) -> None:
    """422 naming the unknown types and the known ones."""
    known = known_entities()
    unknown = sorted(set(entities or ()) - set(known))
    if unknown:
        raise InvalidInputError(
            f"unknown PII types {unknown}; known: {', '.join(known)}",
            details={"unknown": unknown, "known": known},
        )
