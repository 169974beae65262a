"""The business-metrics service's errors, in the platform's error envelope."""

from __future__ import annotations

from mlsec.core.errors import InvalidInputError


class InvalidPeriodError(InvalidInputError):
    """A period that cannot be read, is empty, or is out of range (422)."""

    def __init__(self, message: str, **details: str) -> None:
        super().__init__(message, details=dict(details))


class InvalidResolutionError(InvalidInputError):
    """A resolution that is unknown or too fine for the period (422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
