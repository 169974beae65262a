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
_PHONE_WINDOW = re.compile(r"(?:\+|\b00)?[(\d][\d()./\- \u00a0\t]*\d(?: ?(?:x|ext\.?|#) ?\d{1,6})?", re.IGNORECASE)
"""Digits with the separators phone numbers are written with, a leading + or 00 and an opening bracket."""
_EXTENSION = re.compile(r" ?(?:x|ext\.?|#) ?\d{1,6}$", re.IGNORECASE)
_NOT_PHONE = re.compile(r"\d{1,4}/\d{1,2}/\d{1,4}|\d{1,3}(?:\.\d{1,3}){3}")
"""A date or an IPv4 address, which the matcher rejects anyway (after ten passes)."""
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
    context: a fake or reserved range a person may still have written as their number).

    The matcher runs only on the runs of digits and separators that could hold a number (7 to 15 digits, an
    extension aside; two characters of margin before and four after, which it reads to reject a number glued to a
    word or a time), and stops at the first country whose pass covers every digit: its own scan of a whole text,
    once per country, cost more than every other recognizer together."""
    if sum(ch.isdigit() for ch in text) < 7:  # no phone number fits: skip the parser's cost
        return
    passes = [(region, phonenumbers.Leniency.VALID, 0.6)]
    passes += [(other, phonenumbers.Leniency.VALID, 0.5) for other in regions if other != region]
    passes.append((region, phonenumbers.Leniency.POSSIBLE, 0.4))
    for window in _PHONE_WINDOW.finditer(text):
        value = window.group()
        international = value.startswith(("+", "00"))
        number = _EXTENSION.sub("", value)
        digits = sum(ch.isdigit() for ch in number) - (2 if number.startswith("00") else 0)
        if digits < 7 or 15 < digits < 20 or (digits > 13 and not international) or _NOT_PHONE.fullmatch(value):
            continue  # E.164 numbers have at most 15 digits, national ones at most 13: longer runs are cards
        yield from _phones_in(text, max(0, window.start() - 2), window.end() + 4, passes)


def _phones_in(text: str, start: int, end: int, passes: list[tuple[str, int, float]]) -> Iterator[Finding]:
    seen: set[tuple[int, int]] = set()
    piece = text[start:end]
    digits = sum(ch.isdigit() for ch in piece)
    for country, leniency, national in passes:
        covered = 0
        for match in phonenumbers.PhoneNumberMatcher(piece, country, leniency=leniency):
            covered += sum(ch.isdigit() for ch in match.raw_string)
            span = (start + match.start, start + match.end)
            if span in seen:
                continue
            seen.add(span)
            international = match.raw_string.lstrip().startswith(("+", "00"))
            base = 0.75 if international and leniency == phonenumbers.Leniency.VALID else national
            score = adjust(base, text, *span, raise_on=PHONE_WORDS, lower_on=PHONE_NEGATIVE)
            kind = "valid" if leniency == phonenumbers.Leniency.VALID else "possible"
            yield Finding(PHONE, *span, score, f"phone:{kind}:{'intl' if international else country}")
        if covered >= digits:
            return  # every digit is in a number already: a later pass would find the same spans, less surely
