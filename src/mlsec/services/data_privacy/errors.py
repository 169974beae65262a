"""The data-privacy service's errors, in the platform's error envelope."""

from __future__ import annotations

from mlsec.core.errors import BadGatewayError, InvalidInputError, NotFoundError


class SubjectNotFoundError(NotFoundError):
    def __init__(self, subject_id: str):
        super().__init__(f"no data subject {subject_id!r}", details={"subject_id": subject_id})


class UnknownPurposeError(InvalidInputError):
    def __init__(self, purpose: str, known: list[str]):
        super().__init__(
            f"unknown purpose {purpose!r}; known: {', '.join(known)} (MLSEC_DATA_PRIVACY_PURPOSES)",
            details={"purpose": purpose[:64], "known": known},
        )


class UnknownCategoryError(InvalidInputError):
    def __init__(self, category: str, known: tuple[str, ...]):
        super().__init__(
            f"unknown data category {category!r}; known: {', '.join(known)}",
            details={"category": category[:64], "known": list(known)},
        )


class StoreUnreachableError(BadGatewayError):
    """A service holding personal data could not be asked; nothing was changed through it."""

    def __init__(self, store: str, reason: str):
        super().__init__(f"the {store} could not be asked: {reason}", details={"store": store})
