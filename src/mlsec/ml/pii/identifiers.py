"""IP addresses, US Social Security numbers and dates of birth."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from stdnum.us import ssn as us_ssn

from mlsec.ml.pii.context import adjust, near
from mlsec.ml.pii.findings import DATE_OF_BIRTH, IP_ADDRESS, US_SSN, Finding
from mlsec.ml.pii.prefilter import has_any, has_count, has_digits

_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_SSN = re.compile(r"(?<![\d-])\d{3}([- ]?)\d{2}\1\d{4}(?![\d-])")
_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    "|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})(?!\d)",
    re.IGNORECASE,
)
IP_WORDS = ("ip", "address", "host", "server", "client", "from", "login", "connected", "ipv4", "ipv6")
IP_NEGATIVE = ("version", "v", "release", "build")
SSN_WORDS = ("ssn", "social security", "social", "ss#", "ss")
BIRTH_WORDS = ("born", "birth", "birthday", "dob", "d.o.b", "date of birth", "birthdate")
_BIRTH_PARTS = ("born", "birth", "dob", "d.o.b")  # one of them is in every birth word


def ip_addresses(text: str) -> Iterator[Finding]:
    yield from _ipv4_addresses(text)
    if has_count(text, ":", 2):  # an IPv6 address has two colons at least
        yield from _ipv6_addresses(text)


def _ipv4_addresses(text: str) -> Iterator[Finding]:
    if not has_count(text, ".", 3) or not has_digits(text, 4):
        return
    for match in _IPV4.finditer(text):
        try:
            address = ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        base = 0.6 if address.is_global or address.is_private else 0.4
        score = adjust(base, text, match.start(), match.end(), raise_on=IP_WORDS, lower_on=IP_NEGATIVE)
        yield Finding(IP_ADDRESS, match.start(), match.end(), score, "ip:v4")


def _ipv6_addresses(text: str) -> Iterator[Finding]:
    for match in _IPV6.finditer(text):
        value = match.group()
        if value.count(":") < 2 or len(value) < 6:
            continue
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        score = adjust(0.7, text, match.start(), match.end(), raise_on=IP_WORDS)
        yield Finding(IP_ADDRESS, match.start(), match.end(), score, "ip:v6")


def us_ssns(text: str) -> Iterator[Finding]:
    """Numbers the SSA could have issued (no 000, 666 or 9xx area, no 00 group, no 0000 serial); unformatted nine
    digits only with a word like "SSN" near."""
    if not has_digits(text, 9):
        return
    for match in _SSN.finditer(text):
        digits = re.sub(r"[- ]", "", match.group())
        if not us_ssn.is_valid(digits):
            continue
        formatted = bool(match.group(1))
        base = 0.6 if formatted else 0.3
        score = adjust(base, text, match.start(), match.end(), raise_on=SSN_WORDS, by=0.35)
        yield Finding(US_SSN, match.start(), match.end(), score, "ssn:formatted" if formatted else "ssn:digits")


def dates_of_birth(text: str) -> Iterator[Finding]:
    """A date is personal data here only as a birth date: a word like "born" or "DOB" must stand near it."""
    if not has_any(text, _BIRTH_PARTS) or not has_digits(text, 4):  # a date has four digits at least
        return
    for match in _DATE.finditer(text):
        if near(text, match.start(), match.end(), BIRTH_WORDS):
            yield Finding(DATE_OF_BIRTH, match.start(), match.end(), 0.85, "date:birth-context")
