"""A text's sensitivity (public, internal, confidential, restricted) from its findings, with the reasons.

The level is the highest any finding or combination earns:

- `restricted`: data whose leak harms at once: payment data (cards, IBANs), national identifiers (SSNs),
  secrets (keys, tokens, passwords), or a date of birth together with another identifier of the person;
- `confidential`: data that identifies or reaches a person: e-mail addresses, phone numbers, IP addresses,
  dates of birth, person names, and the deployment's own deny-listed terms;
- `internal`: nothing personal, but links (URLs) that may point inside the organisation;
- `public`: nothing found, or places only (a city or country identifies no one on its own).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from mlsec.ml.pii.findings import (
    CREDIT_CARD,
    DATE_OF_BIRTH,
    DENY_LIST,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    LOCATION,
    PERSON,
    PHONE,
    SECRET,
    URL,
    US_SSN,
    Finding,
)

Level = Literal["public", "internal", "confidential", "restricted"]
LEVELS: Final[tuple[Level, ...]] = ("public", "internal", "confidential", "restricted")
_LEVEL_OF: Final[dict[str, tuple[Level, str]]] = {
    CREDIT_CARD: ("restricted", "payment card data"),
    IBAN: ("restricted", "bank account data"),
    US_SSN: ("restricted", "a national identifier"),
    SECRET: ("restricted", "a credential"),
    EMAIL: ("confidential", "contact data that identifies a person"),
    PHONE: ("confidential", "contact data that identifies a person"),
    IP_ADDRESS: ("confidential", "an online identifier"),
    DATE_OF_BIRTH: ("confidential", "a date of birth"),
    PERSON: ("confidential", "a person's name"),
    DENY_LIST: ("confidential", "a term this deployment keeps confidential"),
    URL: ("internal", "links, which may point inside the organisation"),
    LOCATION: ("public", "a place, which identifies no one on its own"),
}
_IDENTIFIERS: Final = frozenset({EMAIL, PHONE, US_SSN, IP_ADDRESS})


@dataclass(frozen=True)
class Classification:
    level: Level
    reasons: list[str]
    counts: dict[str, int]


def classify(findings: Sequence[Finding]) -> Classification:
    """The level the findings earn, one reason per type (and combination) that earned a level, and the counts
    per type (no values: a classification never holds the data it is about)."""
    counts = Counter(f.type for f in findings)
    level: Level = "public"
    reasons: list[str] = []
    for kind in sorted(counts, key=lambda k: (-LEVELS.index(_LEVEL_OF.get(k, ("internal", ""))[0]), k)):
        earned, why = _LEVEL_OF.get(kind, ("internal", "an unlisted type"))
        reasons.append(f"{counts[kind]} {kind}: {why} ({earned})")
        level = max(level, earned, key=LEVELS.index)
    if DATE_OF_BIRTH in counts and _IDENTIFIERS & counts.keys():
        reasons.append("a date of birth with another identifier of a person (restricted)")
        level = "restricted"
    return Classification(level=level, reasons=reasons, counts=dict(sorted(counts.items())))
