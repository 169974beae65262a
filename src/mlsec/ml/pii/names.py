"""Person names and locations, from word lists (`mlsec.ml.pii.lexicon`) and the cues around them.

A capitalised word is not a name because a list holds it: "Will", "May" and "Hope" are first names and English
words, "Jordan" is a name and a country. So the lists give a base score and the text decides:

- PERSON: a run of capitalised words (initials allowed inside) whose first word is a known first name and last
  word a known last name (0.85), a known first name before an unknown surname (0.65), an unknown first name
  before a known surname (0.55); one known first name alone (0.4) needs a cue ("Hi", "my name is", "called");
  a title (Mr, Mrs, Ms, Dr, ...) before capitalised words makes them a name whatever the lists say (0.85). Words
  of the common-word list do not start a name on their own, a run followed by "Inc", "Street", ... is no person.
- LOCATION: the longest run of words (up to the longest place name) that is a country, US state, continent or
  city of the lists: 0.7 for the major ones (countries, states, cities of 100,000 people or more), 0.5 for the
  others, raised by a preposition right before it ("in", "from", "to") or a place word near ("city", "born",
  "lives", "moved"); a place name that is also a common word or a first name needs that context. An unknown
  capitalised word right after a strong cue ("born in", "moved here from", "flew to") is a location too (0.55).

Everything below the engine's threshold (0.5) is left out, so a bare first name or a common word is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from mlsec.ml.pii.context import adjust, right_after
from mlsec.ml.pii.findings import LOCATION, PERSON, Finding
from mlsec.ml.pii.lexicon import Lexicon, lexicon

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
MAX_NAME_WORDS = 4
_SURNAME_SHAPE = re.compile(
    r"(?:ov|ova|ev|eva|in|ina|sky|ski|ska|cka|czyk|wicz|vić|vic|ić|ović|enko|uk|yan|ian|dze|shvili|escu|oglu|oğlu"
    r"|son|sen|sson|dóttir|dottir|poulos|akis|opoulou|ez|ini|elli|etti)$"
)
"""Endings that surnames of many languages share (Ivanov, Kowalski, Petrović, Shevchenko, Hansen, Fernández)."""
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mister", "dame", "lady", "lord"})
ORGANIZATION_WORDS = frozenset(
    """inc incorporated ltd llc llp plc corp corporation company co group gmbh ag sa bank university college school
    hospital hotel street st avenue ave road rd lane boulevard blvd drive square foundation institute partners
    associates holdings technologies systems""".split()  # noqa: SIM905 - a word list reads best as words
)
PERSON_WORDS = (
    "name", "named", "names", "called", "call me", "calls me", "hi", "hello", "dear", "i'm", "i am", "this is",
    "mr", "mrs", "ms", "dr", "meet", "signed", "regards", "thanks", "user", "customer", "patient", "son",
    "daughter", "wife", "husband", "mother", "father", "brother", "sister", "friend", "partner", "kid", "ceo",
    "manager", "assistant", "said", "says", "by", "with", "tell", "player", "singer", "author",
)  # fmt: skip
PERSON_NEGATIVE = ("street", "avenue", "road", "inc", "ltd", "llc", "company", "city", "town", "country", "hotel")
NAME_CUES = (
    "name", "name is", "i'm", "i am", "call me", "calls me", "called", "named", "dear", "hi", "hello", "kid", "child",
    "son", "daughter",
)  # fmt: skip
STRONG_NAME_CUES = ("my name is", "name is", "called", "named", "call me", "calls me")
PLACE_WORDS = (
    "city", "town", "village", "country", "capital", "region", "state", "province", "born", "lives", "live",
    "living", "moved", "move", "travel", "travelling", "traveling", "flew", "fly", "visit", "visiting", "based",
    "located", "home", "address", "trip", "holiday", "vacation",
)  # fmt: skip
PLACE_NEGATIVE = ("mr", "mrs", "ms", "dr", "named", "name", "called")
PREPOSITIONS = ("in", "from", "to", "at", "near", "of", "around", "across", "southern", "northern")
PLACE_CUES = (
    "born in", "lives in", "live in", "living in", "moved here from", "moved to", "moved from", "originally from",
    "flew to", "fly to", "travelling to", "traveling to", "based in", "located in", "city of", "home city",
    "town of", "year in", "world to", "i'm in", "i am in",
)  # fmt: skip


class _Token(NamedTuple):
    start: int
    end: int
    word: str
    folded: str


_new_token = tuple.__new__  # a NamedTuple's own constructor is a Python function: a third of tokenizing


@lru_cache(maxsize=4)
def _tokens(text: str) -> list[_Token]:
    """Words of letters (apostrophes and hyphens inside), a possessive "'s" left out: "Matej's" is "Matej"."""
    tokens = []
    for match in _TOKEN.finditer(text):
        word, end = match.group(), match.end()
        if len(word) > 3 and word[-2] in "'\u2019" and word[-1] == "s":
            word, end = word[:-2], end - 2
        tokens.append(_new_token(_Token, (match.start(), end, word, word.casefold())))
    return tokens


def _beside_number(text: str, start: int, end: int) -> bool:
    """A house number right before or after: "5533 Countess Close", "Jana Nerudy 894" are streets."""
    before = text[max(0, start - 8) : start].rstrip(" ")
    after = text[end : end + 8].lstrip(" ")
    return bool(before and before[-1].isdigit()) or bool(after and after[0].isdigit())


def _capitalised(word: str) -> bool:
    """ "Anna", "McDonald", "O'Brien"; not "anna", not "DDS" (initials and acronyms are not names here)."""
    return word[0].isupper() and (len(word) == 1 or not word.isupper())


def _upper_start(word: str) -> bool:
    return word[0].isupper()


def _initial(text: str, token: _Token) -> bool:
    return len(token.word) == 1 and token.word.isupper()


def _joined(text: str, left: _Token, right: _Token, *, after_initial: bool = False) -> bool:
    """Whether two tokens are neighbours within one name: one space between them (a dot before it after an
    initial), no line break or punctuation."""
    gap = text[left.end : right.start]
    return gap == " " or (after_initial and gap in (". ", "."))


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'\u201c\u2018(*-")
    return not before or before[-1] in ".!?:\n>"


def persons(text: str, lists: Lexicon | None = None) -> Iterator[Finding]:
    """Names of people: see the module's docstring for the scores."""
    lists = lists or lexicon()
    tokens = _tokens(text)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not token.word[0].isupper() and token.folded not in lists.first_names and token.folded not in TITLES:
            index += 1  # a lower-case word that is no first name or title starts nothing (most words)
            continue
        found, index = _person_at(text, tokens, index, lists)
        if found is not None:
            yield found


def _name_run(text: str, tokens: list[_Token], first: int) -> int:
    """The index after the last token of the run of capitalised words (and initials) starting at `first`."""
    end = first + 1
    while end < len(tokens) and end - first < MAX_NAME_WORDS:
        previous, token = tokens[end - 1], tokens[end]
        if not _capitalised(token.word) or not _joined(text, previous, token, after_initial=_initial(text, previous)):
            break
        end += 1
    return end


def _person_at(text: str, tokens: list[_Token], index: int, lists: Lexicon) -> tuple[Finding | None, int]:
    """The person starting at token `index`, if any, and the index to look at next."""
    token = tokens[index]
    titled = token.folded in TITLES and index + 1 < len(tokens) and _capitalised(tokens[index + 1].word)
    first = index + 1 if titled else index
    if not _capitalised(tokens[first].word):
        return _lower_case_name(text, tokens, first, lists), first + 1
    end = _name_run(text, tokens, first)
    while end - first > 1 and _initial(text, tokens[end - 1]):
        end -= 1
    run = tokens[first:end]
    words = [t for t in run if len(t.word) > 1]
    if not words or any(t.folded in ORGANIZATION_WORDS for t in run):
        return None, end
    if end < len(tokens) and _joined(text, run[-1], tokens[end]):
        follower = tokens[end].folded
        if follower in ORGANIZATION_WORDS or follower in lists.street_words:
            return None, end + 1
    if len(words) > 1 and words[-1].folded in lists.street_words and words[-1].folded not in lists.last_names:
        return None, end  # "Philip Bypass", "Countess Close": a street
    if _beside_number(text, run[0].start, run[-1].end):
        return None, end
    if not titled and words[0].folded in lists.common_words:
        two_names = len(words) > 1 and words[0].folded in lists.first_names and words[1].folded in lists.last_names
        if len(words) == 1 and right_after(text, words[0].start, STRONG_NAME_CUES):
            return Finding(PERSON, words[0].start, words[0].end, 0.6, "person:cue"), end  # "called Rose"
        if not two_names and not _sentence_start(text, words[0].start):
            return None, end  # a capitalised word inside a sentence starts a title: "The Quick Brown Fox"
        if not two_names:
            return None, first + 1  # "Hi Christin": look again from the next word
    scored = _person_score(text, words, titled, lists)
    if scored is None:
        return None, end
    score, rule = scored
    start, stop = run[0].start, run[-1].end
    score = adjust(score, text, start, stop, raise_on=PERSON_WORDS, lower_on=PERSON_NEGATIVE)
    return Finding(PERSON, start, stop, score, rule), end


def _person_score(text: str, words: list[_Token], titled: bool, lists: Lexicon) -> tuple[float, str] | None:
    first_known = words[0].folded in lists.first_names
    last_known = len(words) > 1 and words[-1].folded in lists.last_names
    if titled:
        return 0.85, "person:title"
    if len(words) > 1:
        if " ".join(t.folded for t in words) in lists.places:
            return None
        if first_known and last_known:
            return 0.85, "person:first-last"
        if first_known:
            return 0.65, "person:first-name"
        if last_known and words[0].folded not in lists.places:
            return 0.55, "person:last-name"
        if right_after(text, words[0].start, NAME_CUES):
            return 0.6, "person:cue"
        if _SURNAME_SHAPE.search(words[-1].folded) and words[0].folded not in lists.common_words:
            return 0.5, "person:surname-shape"
        return None
    word = words[0]
    ordinary = word.folded in lists.major_places or word.folded in lists.common_words
    if ordinary or (word.folded in lists.places and not first_known):
        score = 0.2
    elif first_known:
        score = 0.5
    elif word.folded in lists.last_names:
        score = 0.3
    elif right_after(text, word.start, NAME_CUES):
        return 0.55, "person:cue"
    else:
        return None
    if _sentence_start(text, word.start) and not text.startswith((",", ":"), word.end):
        score -= 0.1  # "Mark the ticket", but "Alice: who are you?" and "Leif, can I"
    if right_after(text, word.start, ("the", "a", "an")):
        score -= 0.3  # "The Jones, Smith and Davis Orchestra"
    if right_after(text, word.start, NAME_CUES):
        score += 0.15
    return score, "person:first-name" if first_known else "person:single"


def _lower_case_name(text: str, tokens: list[_Token], index: int, lists: Lexicon) -> Finding | None:
    """ "my name is codey m ross": a lower-case known first name only right after a naming cue."""
    token = tokens[index]
    if token.folded not in lists.first_names or token.folded in lists.common_words:
        return None
    if not right_after(text, token.start, NAME_CUES):
        return None
    end = index + 1
    while end < len(tokens) and end - index < 3 and _joined(text, tokens[end - 1], tokens[end]):
        if tokens[end].folded in lists.common_words:
            break
        end += 1
    return Finding(PERSON, token.start, tokens[end - 1].end, 0.6, "person:lower-case-cue")


def locations(text: str, lists: Lexicon | None = None) -> Iterator[Finding]:
    """Places of the lists (longest match first) and unknown capitalised words right after a strong place cue."""
    lists = lists or lexicon()
    tokens = _tokens(text)
    index = 0
    while index < len(tokens):
        if not tokens[index].word[0].isupper():  # a place starts with a capital (most words do not)
            index += 1
            continue
        found, length = _place_at(text, tokens, index, lists)
        if found is not None:
            yield found
        index += max(length, 1)


def _place_at(text: str, tokens: list[_Token], index: int, lists: Lexicon) -> tuple[Finding | None, int]:
    """The place starting at token `index` and how many tokens it takes (0: none)."""
    longest: list[_Token] = []
    phrase = ""
    for end in range(index, len(tokens)):
        if end > index and not _joined(text, tokens[end - 1], tokens[end]):
            break
        phrase = f"{phrase} {tokens[end].folded}" if phrase else tokens[end].folded
        if phrase not in lists.place_starts:
            break
        if phrase in lists.places and _upper_start(tokens[end].word):
            longest = tokens[index : end + 1]
    if longest:
        phrase = " ".join(t.folded for t in longest)
        if _place_like(text, longest, phrase, lists):
            after_first_name = index > 0 and tokens[index - 1].folded in lists.first_names
            after_first_name = after_first_name and _joined(text, tokens[index - 1], longest[0])
            return _place_finding(text, longest, phrase, lists, after_first_name=after_first_name), len(longest)
    cue = right_after(text, tokens[index].start, PLACE_CUES)
    if cue and tokens[index].folded not in lists.common_words and tokens[index].folded not in lists.first_names:
        end = index + 1
        while end < len(tokens) and end - index < 3 and _upper_start(tokens[end].word):
            if not _joined(text, tokens[end - 1], tokens[end]):
                break
            end += 1
        run = tokens[index:end]
        return Finding(LOCATION, run[0].start, run[-1].end, 0.55, "location:cue"), len(run)
    return None, 0


def _place_like(text: str, run: list[_Token], phrase: str, lists: Lexicon) -> bool:
    """Not an abbreviation ("CO", "AP": states, codes, words of many languages), not a label ("Mobile:")."""
    if len(run) == 1 and run[0].word.isupper() and len(run[0].word) <= 3 and phrase not in lists.major_places:
        return False
    if len(phrase) <= 2 or text.startswith(":", run[-1].end):
        return False
    follower = re.match(r" ([^\W\d_]+)", text[run[-1].end : run[-1].end + 24])
    return follower is None or follower.group(1).casefold() not in ORGANIZATION_WORDS  # "Loveland Technologies"


def _place_finding(text: str, run: list[_Token], phrase: str, lists: Lexicon, *, after_first_name: bool) -> Finding:
    start, end = run[0].start, run[-1].end
    major = phrase in lists.major_places
    score = 0.7 if major else 0.5
    if after_first_name:
        score -= 0.25  # "Marta Palermo": a surname

    ambiguous = any(phrase in words for words in (lists.common_words, lists.first_names, lists.last_names))
    ambiguous = ambiguous or phrase in lists.street_words
    if ambiguous:
        score -= 0.3 if not major else 0.25
    if len(run) == 1 and not major and _sentence_start(text, start):
        score -= 0.1
    if right_after(text, start, PREPOSITIONS):
        score += 0.2
    score = adjust(score, text, start, end, raise_on=PLACE_WORDS, lower_on=PLACE_NEGATIVE, by=0.15)
    return Finding(LOCATION, start, end, score, "location:major" if major else "location:place")
