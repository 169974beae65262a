"""Payment card numbers (Luhn) and IBANs (ISO 13616: country length and mod-97)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban as iban_number
from stdnum import luhn

from mlsec.ml.pii.context import adjust
from mlsec.ml.pii.findings import CREDIT_CARD, IBAN, Finding
from mlsec.ml.pii.prefilter import has_digits

_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
CARD_WORDS = ("card", "credit", "debit", "visa", "mastercard", "amex", "discover", "cc", "payment", "pay")
CARD_NEGATIVE = ("order", "tracking", "invoice", "isbn", "phone", "tel")
IBAN_WORDS = ("iban", "account", "bank", "transfer", "wire", "sepa")
# Issuer prefixes (ISO/IEC 7812 IINs) of the card networks in wide use, with their lengths.
_NETWORKS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"4"), frozenset({13, 16, 19})),  # Visa
    (re.compile(r"5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)"), frozenset({16})),  # Mastercard
    (re.compile(r"3[47]"), frozenset({15})),  # American Express
    (re.compile(r"6(?:011|5|4[4-9])"), frozenset({16, 19})),  # Discover
    (re.compile(r"35(?:2[89]|[3-8]\d)"), frozenset({16, 17, 18, 19})),  # JCB
    (re.compile(r"3(?:0[0-5]|[68])"), frozenset({14, 16, 19})),  # Diners Club
    (re.compile(r"62"), frozenset({16, 17, 18, 19})),  # UnionPay
    (re.compile(r"(?:5018|5020|5038|5893|6304|6759|676[1-3])"), frozenset({12, 13, 14, 15, 16, 17, 18, 19})),  # Maestro
)


def _network(digits: str) -> bool:
    return any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in _NETWORKS)


def credit_cards(text: str) -> Iterator[Finding]:
    """Digit runs of 12 to 19 (spaces or dashes between groups) that pass Luhn; a known issuer prefix and length
    make it surer, and words like "card" surer still."""
    if not has_digits(text, 12):
        return
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not luhn.is_valid(digits):
            continue
        known = _network(digits)
        if len(digits) == 12 and not known:  # 12 digits: Maestro's shortest, nothing else's
            continue
        base = 0.85 if known else 0.45
        score = adjust(base, text, match.start(), match.end(), raise_on=CARD_WORDS, lower_on=CARD_NEGATIVE)
        yield Finding(CREDIT_CARD, match.start(), match.end(), score, "card:luhn+iin" if known else "card:luhn")


def ibans(text: str) -> Iterator[Finding]:
    """Country code, check digits and the country's length, valid under mod-97 (python-stdnum)."""
    for match in _IBAN.finditer(text):
        candidate = match.group()
        end = match.end()
        # The pattern may run into a following all-caps word; shrink until the number is valid.
        while len(candidate.replace(" ", "")) >= 15:
            if iban_number.is_valid(candidate):
                score = adjust(0.95, text, match.start(), end, raise_on=IBAN_WORDS)
                yield Finding(IBAN, match.start(), end, score, "iban:mod97")
                break
            candidate = candidate[:-1].rstrip()
            end = match.start() + len(candidate)
