"""Each entity type: valid values found, invalid checksums and look-alikes not."""

from __future__ import annotations

import itertools

import pytest

from mlsec.ml.pii import PiiEngine, scan
from mlsec.ml.pii.findings import (
    CREDIT_CARD,
    DATE_OF_BIRTH,
    DENY_LIST,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    PHONE,
    SECRET,
    URL,
    US_SSN,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def found(text: str, engine: PiiEngine | None = None) -> list[tuple[str, str]]:
    """(type, value) of every finding."""
    return [(f.type, text[f.start : f.end]) for f in (engine or PiiEngine()).scan(text)]


def types_in(text: str) -> set[str]:
    return {kind for kind, _ in found(text)}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("write to jane.doe+news@example.co.uk today", "jane.doe+news@example.co.uk"),
        ("Contact: ops@mlsec.io.", "ops@mlsec.io"),
        ("<b.smith_99@uni-hamburg.de>", "b.smith_99@uni-hamburg.de"),
    ],
)
def test_emails(text: str, value: str) -> None:
    assert (EMAIL, value) in found(text)


@pytest.mark.parametrize("text", ["user@localhost", "a..b@example.com", "@example.com", "name@ example.com", "x@y.z"])
def test_email_look_alikes(text: str) -> None:
    assert EMAIL not in types_in(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Pay with card 4111 1111 1111 1111 please", "4111 1111 1111 1111"),
        ("amex 378282246310005", "378282246310005"),
        ("my Mastercard: 5555-5555-5555-4444", "5555-5555-5555-4444"),
        ("What is the limit for card 4454794511390933?", "4454794511390933"),
    ],
)
def test_credit_cards(text: str, value: str) -> None:
    assert (CREDIT_CARD, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "order number 1234567890123456",  # not Luhn, and an order
        "0000 0000 0000 0000",  # passes Luhn, but is no card
        "tracking 9123456789012348 in the warehouse log",  # passes Luhn, no network's prefix, called tracking
        "ref 9123456789012348",  # the same without a card word: too unsure to report
    ],
)
def test_credit_card_look_alikes(text: str) -> None:
    assert CREDIT_CARD not in types_in(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("IBAN: DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
        ("send it to GB82WEST12345698765432 by Friday", "GB82WEST12345698765432"),
        ("FR1420041010050500013M02606", "FR1420041010050500013M02606"),
    ],
)
def test_ibans(text: str, value: str) -> None:
    assert (IBAN, value) in found(text)


@pytest.mark.parametrize(
    "text",
    ["IBAN DE89 3704 0044 0532 0130 01", "GB82WEST12345698765433", "XX89370400440532013000", "DE8937040044"],
)
def test_iban_look_alikes(text: str) -> None:
    assert IBAN not in types_in(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("login from 203.0.113.7 at noon", "203.0.113.7"),
        ("server 10.0.0.12", "10.0.0.12"),
        ("client ip 2001:db8::8a2e:370:7334 seen", "2001:db8::8a2e:370:7334"),
    ],
)
def test_ip_addresses(text: str, value: str) -> None:
    assert (IP_ADDRESS, value) in found(text)


@pytest.mark.parametrize("text", ["999.1.1.1 is not one", "version 1.2.3.4 released", "1.2.3.4.5", "at 12:30:45"])
def test_ip_look_alikes(text: str) -> None:
    assert IP_ADDRESS not in types_in(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("my SSN is 536-22-1234", "536-22-1234"), ("social security number 536221234", "536221234")],
)
def test_us_ssns(text: str, value: str) -> None:
    assert (US_SSN, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "SSN 000-12-3456",  # area 000 is never issued
        "SSN 666-12-3456",  # nor 666
        "SSN 900-12-3456",  # nor 9xx
        "SSN 536-00-1234",  # nor group 00
        "reference 536221234",  # nine bare digits without a word that says SSN
    ],
)
def test_us_ssn_look_alikes(text: str) -> None:
    assert US_SSN not in types_in(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call me on +44 20 7946 0958 tomorrow", "+44 20 7946 0958"),
        ("phone: (415) 555-2671", "(415) 555-2671"),
        ("Tel. +49 30 901820", "+49 30 901820"),
    ],
)
def test_phones(text: str, value: str) -> None:
    assert (PHONE, value) in found(text)


@pytest.mark.parametrize(
    "text", ["room 555-0000", "ISBN 978-3-16-148410-0", "in 2024 we grew 12345 users", "order 4155552671"]
)
def test_phone_look_alikes(text: str) -> None:
    assert PHONE not in types_in(text)


def test_a_region_reads_national_numbers_most_surely() -> None:
    text = "ruf mich an unter 030 901820"
    german = [(f.type, text[f.start : f.end], f.score) for f in PiiEngine(region="DE", threshold=0).scan(text)]
    default = [(f.type, text[f.start : f.end], f.score) for f in PiiEngine(threshold=0).scan(text)]
    assert german[0][:2] == default[0][:2] == (PHONE, "030 901820")
    assert german[0][2] > default[0][2]  # valid in the engine's own region, not only in one of the others


def test_a_merely_possible_number_needs_a_phone_word() -> None:
    assert (PHONE, "555-0000") in found("call me at 555-0000")
    assert PHONE not in types_in("room 555-0000")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("born on 12/03/1985 in Leeds", "12/03/1985"),
        ("DOB: 1990-07-21", "1990-07-21"),
        ("date of birth 4 March 1977", "4 March 1977"),
        ("she was born March 4th, 1977", "March 4th, 1977"),
    ],
)
def test_dates_of_birth(text: str, value: str) -> None:
    assert (DATE_OF_BIRTH, value) in found(text)


def test_a_date_without_birth_context_is_not_personal() -> None:
    assert DATE_OF_BIRTH not in types_in("the meeting on 12/03/1985 was moved")


@pytest.mark.parametrize(
    ("text", "value", "rule"),
    [
        ("key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE", "secret:aws-access-key"),
        ("token ghp_" + "a" * 36, "ghp_" + "a" * 36, "secret:github-token"),
        (
            "DATABASE_URL=postgresql://app:hunter22@db:5432/x",
            "postgresql://app:hunter22@db:5432",
            "secret:connection-string",
        ),
        ("password = 'hunter2hunter2'", "hunter2hunter2", "secret:assigned"),
        ("api_key: 9f8e7d6c5b4a3f2e", "9f8e7d6c5b4a3f2e", "secret:assigned"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----",
            "secret:private-key",
        ),
        (
            f"Authorization: Bearer {JWT}",
            JWT,
            "secret:jwt",
        ),
    ],
)
def test_secrets(text: str, value: str, rule: str) -> None:
    findings = PiiEngine().scan(text)
    assert [(f.type, text[f.start : f.end], f.rule) for f in findings if f.type == SECRET] == [(SECRET, value, rule)]


@pytest.mark.parametrize("text", ["password = short", "the token economy", "AKIA1234", "postgresql://db:5432/x"])
def test_secret_look_alikes(text: str) -> None:
    assert SECRET not in types_in(text)


def test_urls() -> None:
    text = "see https://example.com/a?b=c, or www.mlsec.io."
    assert [v for k, v in found(text) if k == URL] == ["https://example.com/a?b=c", "www.mlsec.io"]


def test_context_words_raise_and_lower_scores() -> None:
    engine = PiiEngine(threshold=0.0)
    with_word = next(f for f in engine.scan("my card 4111111111111111") if f.type == CREDIT_CARD)
    bare = next(f for f in engine.scan("x 4111111111111111") if f.type == CREDIT_CARD)
    lowered = next(f for f in engine.scan("tracking 4111111111111111") if f.type == CREDIT_CARD)
    assert lowered.score < bare.score < with_word.score


def test_overlaps_keep_one_finding_per_span() -> None:
    text = "card 4111-1111-1111-1111"
    assert found(text) == [(CREDIT_CARD, "4111-1111-1111-1111")]
    spans = [(f.start, f.end) for f in scan("mail ops@mlsec.io or call +44 20 7946 0958, card 4111 1111 1111 1111")]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_allow_and_deny_lists() -> None:
    engine = PiiEngine(allow=["Support@Example.com"], deny=["Project Falcon"])
    text = "mail support@example.com or jane@example.com about project falcon"
    assert found(text, engine) == [(EMAIL, "jane@example.com"), (DENY_LIST, "project falcon")]


def test_types_and_threshold_are_checked() -> None:
    assert found("jane@example.com 4111111111111111", PiiEngine(types=[EMAIL])) == [(EMAIL, "jane@example.com")]
    with pytest.raises(ValueError, match="unknown PII types"):
        PiiEngine(types=["SHOE_SIZE"])
    with pytest.raises(ValueError, match="threshold"):
        PiiEngine(threshold=1.5)


def test_every_finding_names_its_rule_and_lies_within_the_text() -> None:
    text = "Jane (jane@example.com, +44 20 7946 0958) paid with 4111 1111 1111 1111 from 203.0.113.7"
    findings = scan(text)
    assert {f.type for f in findings} == {EMAIL, PHONE, CREDIT_CARD, IP_ADDRESS}
    assert all(0 <= f.start < f.end <= len(text) and ":" in f.rule and 0 <= f.score <= 1 for f in findings)
