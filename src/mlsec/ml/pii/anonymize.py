"""Anonymization operators: what replaces each finding in the text.

- `redact`: nothing;
- `mask`: `*` for every character but the last `keep_last` (separators kept, so a card still reads as one);
- `replace`: `<TYPE>`;
- `hash`: the HMAC-SHA256 of the value under the deployment's key, in hex: equal values stay equal, and
  without the key a guessed value cannot be checked against it;
- `encrypt`: `enc:v1:` and the AES-256-GCM of the value (random 96-bit nonce) in URL-safe base64: reversible
  with the key only, and any change to the token is detected;
- `pseudonymize`: `<TYPE_N>`, the same value getting the same pseudonym within one `Pseudonyms` book (a request,
  or a data subject).

Findings are applied from the end of the text backwards, so earlier offsets stay valid; the result lists where
each replacement landed in the new text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mlsec.ml.pii.findings import Finding

Operator = Literal["redact", "mask", "replace", "hash", "encrypt", "pseudonymize"]
OPERATORS: tuple[str, ...] = get_args(Operator)
TOKEN_PREFIX = "enc:v1:"  # noqa: S105 - a format marker, not a secret
NONCE_BYTES = 12
KEY_BYTES = 32
SEPARATORS = frozenset(" -./()+:_")


class AnonymizationError(ValueError):
    """A bad operator, a missing or malformed key, or a token that does not decrypt."""


@dataclass
class Pseudonyms:
    """Consistent pseudonyms: one book per request, or per data subject kept by the caller."""

    assigned: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def of(self, kind: str, value: str) -> str:
        key = (kind, value.casefold())
        if key not in self.assigned:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.assigned[key] = f"<{kind}_{self.counts[kind]}>"
        return self.assigned[key]


@dataclass(frozen=True)
class Replacement:
    """Where a finding's replacement stands in the anonymized text."""

    type: str
    start: int
    end: int
    operator: str


@dataclass(frozen=True)
class Anonymized:
    text: str
    items: list[Replacement]


def _key(value: bytes | None, name: str) -> bytes:
    if value is None:
        raise AnonymizationError(f"the {name} operator needs a key, and none is configured")
    if len(value) != KEY_BYTES:
        raise AnonymizationError(f"the {name} key must be {KEY_BYTES} bytes, not {len(value)}")
    return value


class Anonymizer:
    """Applies operators with the deployment's keys: `hash_key` for `hash`, `encryption_key` for `encrypt` and
    `decrypt` (32 bytes each; keep them out of code and logs)."""

    def __init__(self, *, hash_key: bytes | None = None, encryption_key: bytes | None = None, keep_last: int = 4):
        if keep_last < 0:
            raise AnonymizationError("keep_last cannot be negative")
        self._hash_key = hash_key
        self._encryption_key = encryption_key
        self.keep_last = keep_last

    def anonymize(
        self,
        text: str,
        findings: Sequence[Finding],
        operators: Operator | Mapping[str, Operator],
        *,
        pseudonyms: Pseudonyms | None = None,
    ) -> Anonymized:
        """`text` with every finding replaced; `operators` is one operator for all, or one per type (a type not
        named gets `replace`)."""
        book = pseudonyms if pseudonyms is not None else Pseudonyms()
        pieces: list[tuple[Finding, str, str]] = []
        for finding in sorted(findings, key=lambda f: f.start):  # pseudonyms numbered in reading order
            chosen = operators if isinstance(operators, str) else operators.get(finding.type, "replace")
            value = text[finding.start : finding.end]
            pieces.append((finding, chosen, self.apply(chosen, finding.type, value, book)))
        out: list[str] = []
        items: list[Replacement] = []
        cursor = shift = 0
        for finding, operator, replacement in pieces:
            if finding.start < cursor:
                raise AnonymizationError("findings overlap: resolve them first (mlsec.ml.pii.engine.resolve_overlaps)")
            out.append(text[cursor : finding.start])
            start = finding.start + shift
            out.append(replacement)
            items.append(Replacement(finding.type, start, start + len(replacement), operator))
            shift += len(replacement) - finding.length
            cursor = finding.end
        out.append(text[cursor:])
        return Anonymized("".join(out), items)

    def apply(self, operator: str, kind: str, value: str, pseudonyms: Pseudonyms) -> str:
        """What one value becomes under one operator."""
        if operator == "redact":
            return ""
        if operator == "replace":
            return f"<{kind}>"
        if operator == "mask":
            return self.mask(value)
        if operator == "hash":
            return hmac.new(_key(self._hash_key, "hash"), value.encode(), hashlib.sha256).hexdigest()
        if operator == "encrypt":
            return self.encrypt(value)
        if operator == "pseudonymize":
            return pseudonyms.of(kind, value)
        raise AnonymizationError(f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}")

    def mask(self, value: str) -> str:
        """Every character but separators and the last `keep_last` significant ones becomes `*`."""
        significant = [i for i, ch in enumerate(value) if ch not in SEPARATORS]
        kept = set(significant[len(significant) - self.keep_last :]) if self.keep_last else set()
        return "".join(ch if ch in SEPARATORS or i in kept else "*" for i, ch in enumerate(value))

    def encrypt(self, value: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(_key(self._encryption_key, "encrypt")).encrypt(nonce, value.encode(), None)
        return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def decrypt(self, token: str) -> str:
        """The value an `encrypt` token holds; AnonymizationError when it was not made with this key or was changed."""
        if not token.startswith(TOKEN_PREFIX):
            raise AnonymizationError(f"not an encrypted value (it starts with {TOKEN_PREFIX!r})")
        body = token[len(TOKEN_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = AESGCM(_key(self._encryption_key, "encrypt")).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
        except (InvalidTag, ValueError) as exc:
            if isinstance(exc, AnonymizationError):
                raise
            raise AnonymizationError("the token does not decrypt with this key (wrong key, or changed)") from exc
        return plain.decode()
