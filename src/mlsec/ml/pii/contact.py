"""E-mail addresses, phone numbers and URLs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from mlsec.ml.pii.context import adjust
from mlsec.ml.pii.findings import EMAIL, PHONE, URL, Finding

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?"
PHONE_WORDS = ("phone", "tel", "telephone", "call", "mobile", "cell", "fax", "number", "reach", "contact", "whatsapp")
OTHER_REGIONS = ("GB", "DE", "FR", "IN", "CA", "AU", "BR", "IL")  # national formats also read, less surely
PHONE_NEGATIVE = ("isbn", "order", "invoice", "account", "card", "serial", "id", "zip", "postcode")


def emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        if ".." in match.group():
            continue
        yield Finding(EMAIL, match.start(), match.end(), 1.0, "email:pattern")


def urls(text: str) -> Iterator[Finding]:
    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in _TRAILING:
            end -= 1
        if end - match.start() > len("www.") + 3:
            yield Finding(URL, match.start(), end, 0.6, "url:pattern")


def phones(text: str, *, region: str = "US", regions: tuple[str, ...] = OTHER_REGIONS) -> Iterator[Finding]:
    """Numbers `phonenumbers` judges valid for their country: international ones, national ones of `region`
    (0.6) or of `regions` (0.5); and, with a phone word near only, numbers merely possible for `region` (0.4 before
    context: a fake or reserved range a person may still have written as their number)."""
    if sum(ch.isdigit() for ch in text) < 7:  # no phone number fits: skip the parser's cost
        return
    seen: set[tuple[int, int]] = set()
    passes = [(region, phonenumbers.Leniency.VALID, 0.6)]
    passes += [(other, phonenumbers.Leniency.VALID, 0.5) for other in regions if other != region]
    passes.append((region, phonenumbers.Leniency.POSSIBLE, 0.4))
    for country, leniency, national in passes:
        for match in phonenumbers.PhoneNumberMatcher(text, country, leniency=leniency):
            if (match.start, match.end) in seen:
                continue
            seen.add((match.start, match.end))
            international = match.raw_string.lstrip().startswith(("+", "00"))
            base = 0.75 if international and leniency == phonenumbers.Leniency.VALID else national
            score = adjust(base, text, match.start, match.end, raise_on=PHONE_WORDS, lower_on=PHONE_NEGATIVE)
            kind = "valid" if leniency == phonenumbers.Leniency.VALID else "possible"
            yield Finding(PHONE, match.start, match.end, score, f"phone:{kind}:{'intl' if international else country}")
