"""Phone numbers: Google's libphonenumber (`phonenumbers`) on the runs of digits that could hold one.

The matcher is run only on digit runs (`phones`), region by region, and a pre-filter keeps it from parsing what
cannot verify. libphonenumber walks a piece of text through a fixed sequence of candidate strings (the runs its
pattern finds, then groups inside them) and, for each, parses it for the region and checks it: valid for its
country (`Leniency.VALID`) or of a possible length (`Leniency.POSSIBLE`). Parsing and checking cost about
100 microseconds a candidate, while what the result can be follows from the digits alone: the national number
the parser keeps is the digits after a leading plus or international prefix and a country code, or the digits
themselves, less a national prefix or carrier code. `could_verify` tries every such reading at once against the
country's number patterns (every region and type of the country code, or-ed) or possible lengths: when none
fits, no parse can succeed and the candidate is skipped; when one fits, libphonenumber decides as before. A
region's pass whose candidates all fail the pre-filter is not run at all. The pre-filter only ever says "no"
for strings of ASCII digits, the separators `+-.()/`, space and tab, and an extension after an "x": anything else
(extension words, other scripts' digits, a comma) goes to the parser as before. `tests/unit/ml/pii/test_phones.py`
checks that the findings are the same with and without it, and that a "no" never meets a number libphonenumber
verifies. On the shipped texts it leaves one parse in thirty (94 of 2,795), and the phone share of a scan falls
from about 70 to under 20 microseconds a text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
    Leniency,
    PhoneMetadata,
    PhoneNumberMatch,
    PhoneNumberMatcher,
)

from mlsec.ml.pii.context import adjust
from mlsec.ml.pii.findings import PHONE, Finding
from mlsec.ml.pii.prefilter import has_digits

_WINDOW = re.compile(r"(?:\+|\b00)?[(\d][\d()./\- \u00a0\t]*\d(?: ?(?:x|ext\.?|#) ?\d{1,6})?", re.IGNORECASE)
"""Digits with the separators phone numbers are written with, a leading + or 00 and an opening bracket."""
_EXTENSION = re.compile(r" ?(?:x|ext\.?|#) ?\d{1,6}$", re.IGNORECASE)
_NOT_PHONE = re.compile(r"\d{1,4}/\d{1,2}/\d{1,4}|\d{1,3}(?:\.\d{1,3}){3}")
"""A date or an IPv4 address, which the matcher rejects anyway (after ten passes)."""
PHONE_WORDS = ("phone", "tel", "telephone", "call", "mobile", "cell", "fax", "number", "reach", "contact", "whatsapp")
OTHER_REGIONS = ("GB", "DE", "FR", "IN", "CA", "AU", "BR", "IL")  # national formats also read, less surely
PHONE_NEGATIVE = ("isbn", "order", "invoice", "account", "card", "serial", "id", "zip", "postcode")
_SIMPLE = frozenset("0123456789+-.()/ \t")
"""Characters whose effect on parsing the pre-filter knows: digits, a plus and separators the parser drops."""
_ASCII_DIGITS = "0123456789"
_NOT_DIGITS = {ord(ch): None for ch in "+-.()/ \t"}
_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail", "fixed_line",
    "mobile",
)  # fmt: skip
"""The number types libphonenumber's validity check tries (`_number_type_helper`)."""
MATCHER_HOOK = hasattr(PhoneNumberMatcher, "_parse_and_verify")
"""The pre-filter hooks the matcher's per-candidate step; without it (a later phonenumbers), every candidate is
parsed as before."""

Pass = tuple[str, int, float]  # region, leniency, score of a national number found in that pass


def phones(
    text: str, *, region: str = "US", regions: tuple[str, ...] = OTHER_REGIONS, prefilter: bool = True
) -> Iterator[Finding]:
    """Numbers `phonenumbers` judges valid for their country: international ones, national ones of `region`
    (0.6) or of `regions` (0.5); and, with a phone word near only, numbers merely possible for `region` (0.4 before
    context: a fake or reserved range a person may still have written as their number).

    The matcher runs only on the runs of digits and separators that could hold a number (7 to 15 digits, an
    extension aside; two characters of margin before and four after, which it reads to reject a number glued to a
    word or a time), and stops at the first country whose pass covers every digit. `prefilter=False` parses every
    candidate (the reference the pre-filter is tested against)."""
    if not has_digits(text, 7):  # no phone number fits: skip the parser's cost
        return
    passes: list[Pass] = [(region, Leniency.VALID, 0.6)]
    passes += [(other, Leniency.VALID, 0.5) for other in regions if other != region]
    passes.append((region, Leniency.POSSIBLE, 0.4))
    for window in _WINDOW.finditer(text):
        value = window.group()
        international = value.startswith(("+", "00"))
        number = _EXTENSION.sub("", value)
        digits = sum(ch.isdigit() for ch in number) - (2 if number.startswith("00") else 0)
        if digits < 7 or 15 < digits < 20 or (digits > 13 and not international) or _NOT_PHONE.fullmatch(value):
            continue  # E.164 numbers have at most 15 digits, national ones at most 13: longer runs are cards
        start, end = max(0, window.start() - 2), window.end() + 4
        yield from _phones_in(text, start, end, passes, prefilter=prefilter and MATCHER_HOOK)


def _phones_in(text: str, start: int, end: int, passes: list[Pass], *, prefilter: bool) -> Iterator[Finding]:
    seen: set[tuple[int, int]] = set()
    piece = text[start:end]
    digits = sum(ch.isdigit() for ch in piece)
    visited = _visited(piece) if prefilter else []
    reads: dict[str, Read | None] = {}
    for country, leniency, national in passes:
        matcher: PhoneNumberMatcher
        if prefilter:
            could = _Memo(country, leniency == Leniency.VALID, reads)
            if not any(could(candidate) for candidate in visited):
                continue  # no candidate can verify: the matcher would walk the same ones and find nothing
            matcher = _FilteredMatcher(piece, country, leniency, could)
        else:
            matcher = PhoneNumberMatcher(piece, country, leniency=leniency)
        covered = 0
        for match in matcher:
            covered += sum(ch.isdigit() for ch in match.raw_string)
            span = (start + match.start, start + match.end)
            if span in seen:
                continue
            seen.add(span)
            international = match.raw_string.lstrip().startswith(("+", "00"))
            base = 0.75 if international and leniency == Leniency.VALID else national
            score = adjust(base, text, *span, raise_on=PHONE_WORDS, lower_on=PHONE_NEGATIVE)
            kind = "valid" if leniency == Leniency.VALID else "possible"
            yield Finding(PHONE, *span, score, f"phone:{kind}:{'intl' if international else country}")
        if covered >= digits:
            return  # every digit is in a number already: a later pass would find the same spans, less surely


class _Recorder(PhoneNumberMatcher):
    """The matcher's walk over a piece when no candidate verifies: every candidate it would parse, in order."""

    def __init__(self, piece: str) -> None:
        super().__init__(piece, "ZZ", leniency=Leniency.POSSIBLE)
        self.candidates: list[str] = []

    def _parse_and_verify(self, candidate: str, offset: int) -> None:
        self.candidates.append(candidate)


def _visited(piece: str) -> list[str]:
    recorder = _Recorder(piece)
    for _ in recorder:  # finds nothing: it only records
        pass
    return recorder.candidates


class _Memo:
    """`could_verify` for one region and leniency over one piece: each candidate read once for every pass, and
    judged once for each (the matcher asks again about those the recorder saw)."""

    def __init__(self, region: str, valid: bool, reads: dict[str, Read | None]) -> None:
        self.region, self.valid, self.reads = region, valid, reads
        self.known: dict[str, bool] = {}

    def __call__(self, candidate: str) -> bool:
        found = self.known.get(candidate)
        if found is None:
            if candidate not in self.reads:
                self.reads[candidate] = _read(candidate)
            found = self.known[candidate] = _could_read(self.reads[candidate], self.region, valid=self.valid)
        return found


class _FilteredMatcher(PhoneNumberMatcher):
    """libphonenumber's matcher, parsing only the candidates that `could` verify."""

    def __init__(self, piece: str, region: str, leniency: int, could: Callable[[str], bool]) -> None:
        super().__init__(piece, region, leniency=leniency)
        self._could = could

    def _parse_and_verify(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        if not self._could(candidate):
            return None
        return super()._parse_and_verify(candidate, offset)


def could_verify(candidate: str, *, region: str, valid: bool) -> bool:
    """False only when parsing `candidate` for `region` cannot give a number valid for its country (`valid`) or of
    a possible length (not `valid`); True when it may, or when the string holds what the pre-filter cannot read."""
    return _could_read(_read(candidate), region, valid=valid)


def _could_read(read: Read | None, region: str, *, valid: bool) -> bool:
    if read is None or region not in SUPPORTED_REGIONS:
        return True
    plus, readings = read
    return any(_could_parse(digits, plus, region, valid=valid) for digits in readings)


def _could_parse(digits: str, plus: bool, region: str, *, valid: bool) -> bool:
    if not digits:
        return False  # no digit: nothing to parse
    if plus:
        code, rest = _country_code(digits)
        if code:
            return _fits(code, _stripped([rest], _country(code).strips), valid=valid)
        # An unknown country code after the plus: the parser reads the digits as a national number.
    return _could_be_national(digits, _region(region), valid=valid)


_EXTENSION_X = re.compile(r"(?P<number>.*?)[ \t]*[xX][ \t-]*(?P<extension>\d{1,9})")


Read = tuple[bool, tuple[str, ...]]  # read as international (a leading plus), the digits the parser may keep


def _read(candidate: str) -> Read | None:
    """Whether the parser reads `candidate` as international (a leading plus), and the digits it may read; None
    when it holds a character the pre-filter cannot account for."""
    number, extension = candidate, ""
    if not _SIMPLE.issuperset(candidate):
        found = _EXTENSION_X.fullmatch(candidate)
        if found is None or not _SIMPLE.issuperset(found["number"]) or "/" in candidate:
            return None
        number, extension = found["number"], found["extension"]
    first = next((ch for ch in number if ch == "+" or ch in _ASCII_DIGITS), "")
    digits = number.translate(_NOT_DIGITS)
    # "555-0100 x12": the parser strips the extension or, when what precedes is too short, keeps its digits.
    return first == "+", (digits, digits + extension) if extension else (digits,)


def _could_be_national(digits: str, plan: _Region, *, valid: bool) -> bool:
    """The three readings of a number without a plus: after the region's international prefix, after the region's
    own country code, and as a national number (which, for a valid number, also needs the national prefix where
    the country's format for it asks for one)."""
    if plan.international_prefix is not None and (found := plan.international_prefix.match(digits)):
        code, rest = _country_code(digits[found.end() :])
        if code and _fits(code, _stripped([rest], _country(code).strips), valid=valid):
            return True
    if len(digits) < (plan.shortest_valid if valid else plan.shortest_possible):
        return False  # every reading is too short for the country
    own = str(plan.country_code)
    if digits.startswith(own):
        readings = _stripped(_stripped([digits[len(own) :]], plan.own_strips), plan.main_strips + plan.own_strips)
        if _fits(plan.country_code, readings, valid=valid):
            return True
    readings = _stripped([digits], plan.own_strips)
    if not valid:
        return _fits(plan.country_code, readings, valid=False)
    country = _country(plan.country_code)
    prefixed = plan.main_prefix is not None and plan.main_prefix.match(digits) is not None
    return any(country.valid(number) and (prefixed or not _needs_prefix(plan.formats, number)) for number in readings)


def _needs_prefix(formats: tuple[_Format, ...], number: str) -> bool:
    """Whether the country's format for `number` writes it with the national prefix (libphonenumber then rejects
    a national number written without it)."""
    for leading, pattern, needs in formats:
        if (leading is None or leading.match(number)) and pattern.fullmatch(number):
            return needs
    return False


def _country_code(digits: str) -> tuple[int, str]:
    """The leading country calling code and the rest, as the parser reads them (0 when there is none)."""
    if not digits or digits[0] == "0":
        return 0, digits
    for size in range(1, min(len(digits), 3) + 1):
        if int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            return int(digits[:size]), digits[size:]
    return 0, digits


Strip = tuple[re.Pattern[str], str | None]  # a national prefix (with carrier code) and its transform rule


def _stripped(numbers: list[str], strips: tuple[Strip, ...]) -> list[str]:
    """Each number as it is, and without each national prefix (or carrier code) it may start with."""
    found = list(numbers)
    for number in numbers:
        for prefix, transform in strips:
            match = prefix.match(number)
            if match:
                found.append(number[match.end() :])
                if transform:
                    found.append(prefix.sub(transform, number, count=1))
    return found


def _fits(code: int, readings: Iterable[str], *, valid: bool) -> bool:
    country = _country(code)
    if valid:
        return any(country.valid(number) for number in readings)
    return any(len(number) in country.lengths for number in readings)


_Format = tuple[re.Pattern[str] | None, re.Pattern[str], bool]  # leading digits, pattern, needs the national prefix


@dataclass(frozen=True)
class _Region:
    country_code: int
    international_prefix: re.Pattern[str] | None
    own_strips: tuple[Strip, ...]  # the region's national prefix
    main_strips: tuple[Strip, ...]  # its country's main region's (the US for Canada)
    main_prefix: re.Pattern[str] | None
    formats: tuple[_Format, ...]  # the main region's national formats
    shortest_valid: int  # the fewest digits a valid national number of the country has (0: unknown)
    shortest_possible: int  # and a possible one


@dataclass(frozen=True)
class _Country:
    pattern: re.Pattern[str] | None  # any number type of any region of the code
    valid_lengths: frozenset[int] | None  # the lengths of its regions' numbers (None: any)
    lengths: frozenset[int]  # the possible lengths of its main region (local-only ones too)
    strips: tuple[Strip, ...]  # its main region's national prefix

    def valid(self, number: str) -> bool:
        """Whether `number` has the length and the pattern of a number of some type of some region of the code."""
        if self.valid_lengths is not None and len(number) not in self.valid_lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(number) is not None


def _strips(metadata: PhoneMetadata | None) -> tuple[Strip, ...]:
    if metadata is None or not metadata.national_prefix_for_parsing:
        return ()
    return ((re.compile(metadata.national_prefix_for_parsing), metadata.national_prefix_transform_rule or None),)


def _formats(metadata: PhoneMetadata | None) -> tuple[_Format, ...]:
    """Each national format: its leading digits, its pattern, and whether a number of it must be written with the
    national prefix (libphonenumber's `_is_national_prefix_present_if_required`)."""
    if metadata is None:
        return ()
    found = []
    for form in metadata.number_format:
        rule = form.national_prefix_formatting_rule
        needs = bool(rule) and not form.national_prefix_optional_when_formatting
        needs = needs and rule is not None and _FIRST_GROUP_ONLY.fullmatch(rule) is None
        leading = re.compile(form.leading_digits_pattern[-1]) if form.leading_digits_pattern else None
        found.append((leading, re.compile(form.pattern or ""), needs))
    return tuple(found)


_FIRST_GROUP_ONLY = re.compile(r"\(?\\1\)?")
"""A formatting rule that writes the first group alone ("$1" or "($1)"): no national prefix (libphonenumber's)."""


@cache
def _region(region: str) -> _Region:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        raise ValueError(f"no phone metadata for region {region}")
    code = metadata.country_code
    main = PhoneMetadata.metadata_for_region(COUNTRY_CODE_TO_REGION_CODE[code][0])
    main_strips = _strips(main)
    idd = metadata.international_prefix
    country = _country(code)
    lengthens = any(transform for _, transform in _strips(metadata) + main_strips)  # a rule may add digits
    return _Region(
        country_code=code,
        international_prefix=re.compile(idd) if idd else None,
        own_strips=_strips(metadata),
        main_strips=main_strips,
        main_prefix=main_strips[0][0] if main_strips else None,
        formats=_formats(main),
        shortest_valid=0 if lengthens or not country.valid_lengths else min(country.valid_lengths),
        shortest_possible=0 if lengthens or not country.lengths else min(country.lengths),
    )


@cache
def _country(code: int) -> _Country:
    every = [
        metadata
        for region in COUNTRY_CODE_TO_REGION_CODE[code]
        if (metadata := PhoneMetadata.metadata_for_region_or_calling_code(code, region)) is not None
    ]
    patterns = [
        desc.national_number_pattern
        for metadata in every
        for desc in (getattr(metadata, kind) for kind in _TYPES)
        if desc is not None and desc.national_number_pattern
    ]
    pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    sizes = [metadata.general_desc.possible_length if metadata.general_desc else () for metadata in every]
    valid_lengths = None if not all(sizes) else frozenset(size for some in sizes for size in some)
    lengths: frozenset[int] = frozenset()
    main = PhoneMetadata.metadata_for_region_or_calling_code(code, COUNTRY_CODE_TO_REGION_CODE[code][0])
    if main is not None and main.general_desc is not None:
        general = main.general_desc
        lengths = frozenset(general.possible_length or ()) | frozenset(general.possible_length_local_only or ())
    return _Country(pattern, valid_lengths, lengths, _strips(main))
