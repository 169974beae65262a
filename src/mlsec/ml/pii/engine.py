"""The engine: every recognizer over a text, allow and deny lists, a score threshold, and one finding per span.

Overlaps are settled by score, then length: "card 4111-1111-1111-1111" is one card number, not also a phone
number; a URL holding an e-mail address keeps the URL. Recognizers are pure functions of the text, so the engine
is safe to share between threads and processes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import partial

from mlsec.ml.pii import contact, credentials, financial, identifiers, names, phones
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

Recognizer = Callable[[str], Iterable[Finding]]
RECOGNIZERS: dict[str, Recognizer] = {
    EMAIL: contact.emails,
    PHONE: phones.phones,
    URL: contact.urls,
    CREDIT_CARD: financial.credit_cards,
    IBAN: financial.ibans,
    IP_ADDRESS: identifiers.ip_addresses,
    US_SSN: identifiers.us_ssns,
    DATE_OF_BIRTH: identifiers.dates_of_birth,
    SECRET: credentials.secrets,
    PERSON: names.persons,
    LOCATION: names.locations,
}
NAME_TYPES = (PERSON, LOCATION)
"""Found from word lists and cues (`mlsec.ml.pii.names`), asked for by name: `PiiEngine(types=ALL_TYPES)`. Not in
the default, whose users (the services' stored-text anonymizers) were built and tested without them."""
DEFAULT_TYPES = tuple(kind for kind in RECOGNIZERS if kind not in NAME_TYPES)
ALL_TYPES = tuple(RECOGNIZERS)
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class PiiEngine:
    """What one deployment looks for.

    - `types`: the entity types to look for (default: every one but PERSON and LOCATION, `DEFAULT_TYPES`;
      `ALL_TYPES` adds them, at about two and a half times the time per text and, once per process, 1 to 2.5 s
      and 110 MiB to load their word lists);
    - `threshold`: findings scored below it are left out (0.5: a bare look-alike without context is not reported);
    - `allow`: values never reported (e.g. the company's public support address), compared case-insensitively;
    - `deny`: values always reported, as `DENY_LIST` with score 1.0 (e.g. a project's code names)."""

    types: Collection[str] = DEFAULT_TYPES
    threshold: float = DEFAULT_THRESHOLD
    allow: Collection[str] = ()
    deny: Collection[str] = ()
    region: str = "US"
    _recognizers: tuple[Recognizer, ...] = field(init=False, repr=False, compare=False)
    _deny: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _allowed: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.types) - set(RECOGNIZERS) - {DENY_LIST}
        if unknown:
            raise ValueError(f"unknown PII types: {sorted(unknown)}; known: {sorted(RECOGNIZERS)}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be within 0..1, not {self.threshold}")
        recognizers = [
            partial(phones.phones, region=self.region) if kind == PHONE else RECOGNIZERS[kind]
            for kind in self.types
            if kind != DENY_LIST
        ]
        deny = [re.compile(re.escape(value), re.IGNORECASE) for value in self.deny if value]
        # Built once, not per scan; the dataclass stays frozen (and its equality and hash are its fields').
        object.__setattr__(self, "_recognizers", tuple(recognizers))
        object.__setattr__(self, "_deny", tuple(deny))
        object.__setattr__(self, "_allowed", frozenset(value.casefold() for value in self.allow))

    def scan(self, text: str) -> list[Finding]:
        """Every finding at or above the threshold, without overlaps, in text order."""
        found: list[Finding] = []
        for recognize in self._recognizers:
            found.extend(recognize(text))
        for pattern in self._deny:
            found.extend(Finding(DENY_LIST, m.start(), m.end(), 1.0, "deny-list") for m in pattern.finditer(text))
        allowed = self._allowed
        kept = [
            finding
            for finding in found
            if finding.score >= self.threshold
            and not (allowed and text[finding.start : finding.end].casefold() in allowed)
        ]
        return resolve_overlaps(kept) if len(kept) > 1 else kept


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep the best of overlapping findings (highest score, then longest, then earliest), in text order."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (-f.score, -f.length, f.start)):
        if not any(finding.overlaps(other) for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


_DEFAULT = PiiEngine()


def scan(text: str) -> list[Finding]:
    """Every finding of the default engine (`DEFAULT_TYPES`, threshold 0.5, no lists)."""
    return _DEFAULT.scan(text)
