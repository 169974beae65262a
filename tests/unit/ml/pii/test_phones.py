"""The phone pre-filter: the same findings as parsing every candidate, and never a "no" for a string that
libphonenumber verifies."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, Leniency, PhoneMetadata, PhoneNumberMatcher

from mlsec.ml.pii.phones import MATCHER_HOOK, could_verify, phones

DATA = Path(__file__).resolve().parents[4] / "data" / "pii_presidio_synth_v2_train.jsonl"


def wide(text: str) -> str:
    """`text` with full-width digits."""
    return text.translate({ord(digit): 0xFF10 + int(digit) for digit in "0123456789"})


def arabic(text: str) -> str:
    """`text` with Arabic-Indic digits."""
    return text.translate({ord(digit): 0x0660 + int(digit) for digit in "0123456789"})


REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "AU", "BR", "IL")
TRANSFORMING = ("AR", "MX", "JP", "GG", "SM")  # national prefixes rewritten, not only cut (Argentina adds a 9)
TEXTS = [
    "call me on +44 20 7946 0958 tomorrow",
    "phone: (415) 555-2671 or 415.555.2671 x204, fax 415-555-2672 ext. 9",
    "Tel. +49 30 901820, mobil 0151 23456789, Zentrale 030/901820",
    "appelez le 01 23 45 67 89 ou +33 (0)1 23 45 67 89",
    "ring 020 7946 0958 or 07700 900123; from abroad 0044 20 7946 0958 or 011 44 20 7946 0958",
    "mobile +91 98765 43210, office 022 2345 6789",
    "ligue (11) 91234-5678 ou 0 21 11 91234-5678",
    "call 1-800-555-0199 or 1 (212) 555-0188 / 212 555 0188 x 12",
    "dates 2007-01-17 23:08: and 12/03/1985, IP 192.168.1.10, card 4111 1111 1111 1111",
    "+1-984-182-0190 is fake, +999 123 4567 has no country, ++44 20 7946 0958 has two pluses",
    "llamar al 011 15 2345-6789 o al (011) 4321-5678",  # Argentina: a mobile written with 15
    "テル " + wide("03-1234-5678") + " or " + arabic("030 901820"),  # other scripts' digits: parsed as before
    "(555) 010-0199 (555)0100199 555-0100/555-0101 5550100-5550101",
]


def _rows() -> list[str]:
    return [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]


def test_the_matcher_hook_is_there() -> None:
    """Without it (a later phonenumbers renaming its per-candidate step) the pre-filter is off, not wrong."""
    assert MATCHER_HOOK


def test_the_same_findings_as_parsing_every_candidate_on_the_shipped_data() -> None:
    rows = _rows()
    differ = [text for text in rows if list(phones(text)) != list(phones(text, prefilter=False))]
    assert differ == []
    assert sum(1 for text in rows if list(phones(text))) > 50  # the data has phone numbers to lose


@pytest.mark.parametrize("region", REGIONS + TRANSFORMING)
def test_the_same_findings_as_parsing_every_candidate_in_every_region(region: str) -> None:
    for text in TEXTS:
        assert list(phones(text, region=region)) == list(phones(text, region=region, prefilter=False)), text


def _candidate(rng: random.Random, region: str) -> str:
    """Digits in the shapes numbers are written in: a plus or an international prefix and a country code, the
    region's own code or national prefix, separators and brackets, an extension."""
    metadata = PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    body = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 14)))
    code = str(rng.choice(sorted(COUNTRY_CODE_TO_REGION_CODE)))
    lead = rng.choice(["+" + code, "00" + code, "011" + code, str(metadata.country_code), "0", "1", "", ""])
    written = "".join(rng.choice(["", "", "", " ", "-", ".", "/", "(", ")", " - "]) + ch for ch in lead + body)
    if rng.random() < 0.1:
        written = f"({written[:3]}){written[3:]}"
    if rng.random() < 0.1:
        written += rng.choice([" x", "x", " X ", " x-"]) + str(rng.randint(1, 99999))
    return written


def test_a_no_is_never_a_number_libphonenumber_verifies() -> None:
    """Random digit strings in every shape, read for our regions and those whose national prefix is rewritten:
    wherever the pre-filter says no, the matcher's own step (parse, then verify) finds nothing."""
    rng = random.Random(18)
    said_no = 0
    for _ in range(1500):
        region = rng.choice(REGIONS + TRANSFORMING)
        candidate = _candidate(rng, region)
        for leniency in (Leniency.VALID, Leniency.POSSIBLE):
            if could_verify(candidate, region=region, valid=leniency == Leniency.VALID):
                continue
            said_no += 1
            matcher = PhoneNumberMatcher(candidate, region, leniency=leniency)
            assert matcher._parse_and_verify(candidate, 0) is None, (candidate, region, leniency)
    assert said_no > 1500  # most random strings are no number: the pre-filter has to say so


@pytest.mark.parametrize(
    ("candidate", "region", "valid"),
    [
        ("+44 20 7946 0958", "US", True),
        ("020 7946 0958", "GB", True),
        ("201-948-1927", "US", True),
        ("0044 20 7946 0958", "GB", True),  # after the international prefix
        ("44 20 7946 0958", "GB", True),  # after the region's own country code
        ("555-0100 x12", "US", False),  # an extension: its digits may or may not be read
        ("370 3911", "US", False),  # a local US number is possible
        (wide("03-1234-5678"), "JP", True),  # full-width digits: not read, left to the parser
    ],
)
def test_what_may_verify_is_parsed(candidate: str, region: str, valid: bool) -> None:
    assert could_verify(candidate, region=region, valid=valid)


@pytest.mark.parametrize(
    ("candidate", "region", "valid"),
    [
        ("92", "DE", True),  # too short for any number
        ("224 4966", "DE", True),  # a German number needs its 0 when written nationally
        ("370 3911", "US", True),  # seven digits: possible locally, never valid
        ("21 284 698 2548", "US", False),  # twelve digits: no US length
        ("+999 123", "US", True),  # no country code 999, and no US reading either
        ("(-)", "US", False),  # no digit
    ],
)
def test_what_cannot_verify_is_not_parsed(candidate: str, region: str, valid: bool) -> None:
    assert not could_verify(candidate, region=region, valid=valid)
