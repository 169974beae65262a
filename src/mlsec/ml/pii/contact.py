"""E-mail addresses and URLs (phone numbers: `mlsec.ml.pii.phones`).

Each recognizer first asks what every match of its pattern holds (an "@", "://" or "www."): a text without it
is not scanned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlsec.ml.pii.findings import EMAIL, URL, Finding
from mlsec.ml.pii.phones import phones
from mlsec.ml.pii.prefilter import has_any, has_text

__all__ = ["emails", "phones", "urls"]

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?"


def emails(text: str) -> Iterator[Finding]:
    if not has_text(text, ("@",)):
        return
    for match in _EMAIL.finditer(text):
        if ".." in match.group():
            continue
        yield Finding(EMAIL, match.start(), match.end(), 1.0, "email:pattern")


def urls(text: str) -> Iterator[Finding]:
    if not has_text(text, ("://",)) and not has_any(text, ("www.",)):  # every match holds one of them
        return
    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in _TRAILING:
            end -= 1
        if end - match.start() > len("www.") + 3:
            yield Finding(URL, match.start(), end, 0.6, "url:pattern")
