"""A finding: one span of personal data, its type, its score and the rule that found it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

EMAIL: Final = "EMAIL_ADDRESS"
PHONE: Final = "PHONE_NUMBER"
CREDIT_CARD: Final = "CREDIT_CARD"
IBAN: Final = "IBAN_CODE"
IP_ADDRESS: Final = "IP_ADDRESS"
US_SSN: Final = "US_SSN"
URL: Final = "URL"
DATE_OF_BIRTH: Final = "DATE_OF_BIRTH"
SECRET: Final = "SECRET"  # noqa: S105 - an entity type's name, not a secret
PERSON: Final = "PERSON"
LOCATION: Final = "LOCATION"
DENY_LIST: Final = "DENY_LIST"
ENTITY_TYPES: Final = (
    EMAIL,
    PHONE,
    CREDIT_CARD,
    IBAN,
    IP_ADDRESS,
    US_SSN,
    URL,
    DATE_OF_BIRTH,
    SECRET,
    PERSON,
    LOCATION,
    DENY_LIST,
)
"""Presidio's names where Presidio has the type, so that figures compare type by type."""


@dataclass(frozen=True, slots=True)
class Finding:
    """`text[start:end]` is the personal data; `rule` names the recognizer (and variant) that matched."""

    type: str
    start: int
    end: int
    score: float
    rule: str

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end
