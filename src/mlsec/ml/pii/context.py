"""Context words: what the text says just before a match changes how sure the match is.

"card 4111 1111 1111 1111" is a card number more surely than a bare 16-digit number; "version 1.2.3.4" is
less surely an IP address. Each type has words that raise its score and words that lower it, looked for in a
window before the match (and a shorter one after), as whole words, case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

BEFORE = 48  # characters looked at before a match
AFTER = 16  # and after


@lru_cache(maxsize=256)
def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(w) for w in words) + r")(?![a-z0-9])")


def near(text: str, start: int, end: int, words: Iterable[str]) -> bool:
    """Whether one of `words` stands near the span `start:end` of `text`."""
    chosen = words if isinstance(words, tuple) else tuple(words)  # the callers' constant tuples: no copy
    if not chosen:
        return False
    window = text[max(0, start - BEFORE) : start].lower() + " " + text[end : end + AFTER].lower()
    return _words(chosen).search(window) is not None


def adjust(
    score: float,
    text: str,
    start: int,
    end: int,
    *,
    raise_on: Iterable[str] = (),
    lower_on: Iterable[str] = (),
    by: float = 0.25,
) -> float:
    """`score` raised by `by` when a raising word is near, lowered by `by` when a lowering one is (both: as is),
    kept within 0..1."""
    up = near(text, start, end, raise_on)
    down = near(text, start, end, lower_on)
    if up and not down:
        score += by
    elif down and not up:
        score -= by
    return round(min(1.0, max(0.0, score)), 3)


_PRECEDING = 24  # characters looked at for the words right before a match


@lru_cache(maxsize=256)
def _ending(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9'])(?:" + "|".join(re.escape(w) for w in words) + r")[\s\"'“(?:]*$")


def right_after(text: str, start: int, words: Iterable[str]) -> bool:
    """Whether the text just before `start` ends with one of `words` (whole words, case-insensitive; spaces,
    quotes, an opening bracket, "?" and ":" may stand between: "name? Ann"): "moved here from" right before
    "Kenosha", not anywhere near it."""
    chosen = words if isinstance(words, tuple) else tuple(words)
    if not chosen:
        return False
    return _ending(chosen).search(text[max(0, start - _PRECEDING) : start].lower()) is not None
