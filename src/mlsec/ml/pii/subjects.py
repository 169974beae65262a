"""Data subjects by keyed hash: how a person's identifiers are found again without ever being stored.

Every service that holds text keys the identifying values it sees (e-mail, phone, card, IBAN, SSN, IP) with
the deployment's HMAC key: `subject_hash(key, type, value)`. The data-privacy service keys a registered
subject's identifiers the same way, so "which dataset rows and prediction log rows hold this person" is an
equality of hashes, and no store keeps the raw value. Values are normalized first (case of an e-mail address,
separators of a phone or card number), so the same person written two ways is still one hash.

`anonymize_for_storage` is what the prediction log stores when it keeps text: each finding becomes
`<TYPE:hash>` for identifying types (erasure finds the row by that hash) and `<TYPE>` for the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from mlsec.ml.pii.findings import CREDIT_CARD, EMAIL, IBAN, IP_ADDRESS, PHONE, US_SSN, Finding

IDENTIFYING_TYPES: frozenset[str] = frozenset({EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS})
"""Types whose value points at one person (or their account or device): the ones kept as subject hashes."""
HASH_HEX = 32  # 128 bits of the HMAC: collisions are out of reach, the token stays short in stored text
HASH_PATTERN = re.compile(rf"^[0-9a-f]{{{HASH_HEX}}}$")
TOKEN = re.compile(rf"<([A-Z_]+):([0-9a-f]{{{HASH_HEX}}})>")
_NOT_DIGIT = re.compile(r"\D")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def _e164(value: str, region: str = "US") -> str:
    """A phone number in E.164 when it parses (national and international spellings agree), else its digits."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return _NOT_DIGIT.sub("", value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(entity_type: str, value: str) -> str:
    """The form hashed: what two spellings of one identifier have in common."""
    value = value.strip()
    if entity_type == EMAIL:
        return value.casefold()
    if entity_type == PHONE:
        return _e164(value)
    if entity_type in (CREDIT_CARD, US_SSN):
        return _NOT_DIGIT.sub("", value)
    if entity_type == IBAN:
        return _NOT_ALNUM.sub("", value).upper()
    return value.casefold()


def subject_hash(key: bytes, entity_type: str, value: str) -> str:
    """The keyed hash of one identifier (HMAC-SHA256 of `TYPE:normalized`, first 128 bits in hex)."""
    message = f"{entity_type}:{normalize(entity_type, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:HASH_HEX]


def hashes_in(text: str, findings: Iterable[Finding], key: bytes) -> dict[str, str]:
    """Keyed hash -> type of every identifying value found in `text`."""
    return {subject_hash(key, f.type, text[f.start : f.end]): f.type for f in findings if f.type in IDENTIFYING_TYPES}


@dataclass(frozen=True)
class StoredText:
    """Text fit to store: no raw PII, identifying values as `<TYPE:hash>`."""

    text: str
    hashes: dict[str, str]
    counts: dict[str, int]


def anonymize_for_storage(text: str, findings: Sequence[Finding], key: bytes) -> StoredText:
    """`text` with every finding replaced (findings must not overlap: the engine's never do)."""
    out: list[str] = []
    hashes: dict[str, str] = {}
    counts: dict[str, int] = {}
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        out.append(text[cursor : finding.start])
        counts[finding.type] = counts.get(finding.type, 0) + 1
        if finding.type in IDENTIFYING_TYPES:
            digest = subject_hash(key, finding.type, text[finding.start : finding.end])
            hashes[digest] = finding.type
            out.append(f"<{finding.type}:{digest}>")
        else:
            out.append(f"<{finding.type}>")
        cursor = finding.end
    out.append(text[cursor:])
    return StoredText("".join(out), hashes, counts)


def hashes_in_stored(text: str) -> set[str]:
    """The subject hashes a stored (anonymized) text carries."""
    return {match.group(2) for match in TOKEN.finditer(text)}
