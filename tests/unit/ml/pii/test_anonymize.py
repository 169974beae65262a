"""Anonymization operators on real findings: each operator's output, offsets in the new text, keys and tokens."""

from __future__ import annotations

import pytest

from mlsec.ml.pii import PiiEngine
from mlsec.ml.pii.anonymize import AnonymizationError, Anonymizer, Pseudonyms
from mlsec.ml.pii.findings import CREDIT_CARD, EMAIL, Finding

TEXT = "Mail jane@example.com, card 4111 1111 1111 1111, or JANE@example.com again"
KEY_A, KEY_B = b"a" * 32, b"b" * 32


def _run(operators: object, **keys: bytes) -> tuple[str, list[tuple[str, str]]]:
    findings = PiiEngine().scan(TEXT)
    result = Anonymizer(**keys).anonymize(TEXT, findings, operators)  # type: ignore[arg-type]
    return result.text, [(item.type, result.text[item.start : item.end]) for item in result.items]


def test_replace_redact_and_mask() -> None:
    assert _run("replace")[0] == "Mail <EMAIL_ADDRESS>, card <CREDIT_CARD>, or <EMAIL_ADDRESS> again"
    assert _run("redact")[0] == "Mail , card , or  again"
    masked, items = _run({CREDIT_CARD: "mask", EMAIL: "replace"})
    assert "card **** **** **** 1111," in masked
    assert items[1] == (CREDIT_CARD, "**** **** **** 1111")


def test_offsets_of_the_replacements_point_into_the_new_text() -> None:
    text, items = _run("pseudonymize")
    assert text == "Mail <EMAIL_ADDRESS_1>, card <CREDIT_CARD_1>, or <EMAIL_ADDRESS_1> again"
    assert items == [(EMAIL, "<EMAIL_ADDRESS_1>"), (CREDIT_CARD, "<CREDIT_CARD_1>"), (EMAIL, "<EMAIL_ADDRESS_1>")]


def test_pseudonyms_are_consistent_within_a_book_only() -> None:
    book = Pseudonyms()
    anonymizer = Anonymizer()
    first = anonymizer.anonymize("bob@x.org", [Finding(EMAIL, 0, 9, 1.0, "t")], "pseudonymize", pseudonyms=book)
    second = anonymizer.anonymize(
        "amy@x.org bob@x.org", PiiEngine().scan("amy@x.org bob@x.org"), "pseudonymize", pseudonyms=book
    )
    assert first.text == "<EMAIL_ADDRESS_1>"
    assert second.text == "<EMAIL_ADDRESS_2> <EMAIL_ADDRESS_1>"
    fresh = anonymizer.anonymize("bob@x.org", [Finding(EMAIL, 0, 9, 1.0, "t")], "pseudonymize")
    assert fresh.text == "<EMAIL_ADDRESS_1>"


def test_keyed_hashes_are_stable_per_key_and_differ_across_keys() -> None:
    with_a = _run("hash", hash_key=KEY_A)[1]
    assert len(with_a[0][1]) == 64 and with_a[0][1] != with_a[2][1]  # jane@ and JANE@ are different strings
    assert _run("hash", hash_key=KEY_A)[1] == with_a
    assert _run("hash", hash_key=KEY_B)[1][0] != with_a[0]
    with pytest.raises(AnonymizationError, match="needs a key"):
        _run("hash")
    with pytest.raises(AnonymizationError, match="32 bytes"):
        _run("hash", hash_key=b"short")


def test_encryption_round_trips_and_refuses_a_changed_token_or_another_key() -> None:
    anonymizer = Anonymizer(encryption_key=KEY_A)
    token = anonymizer.encrypt("jane@example.com")
    assert token.startswith("enc:v1:") and "jane" not in token
    assert anonymizer.encrypt("jane@example.com") != token  # a fresh nonce each time
    assert anonymizer.decrypt(token) == "jane@example.com"
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad, message in (
        (tampered, "does not decrypt"),
        ("plain text", "not an encrypted value"),
        ("enc:v1:%%", "does not decrypt"),
    ):
        with pytest.raises(AnonymizationError, match=message):
            anonymizer.decrypt(bad)
    with pytest.raises(AnonymizationError, match="does not decrypt"):
        Anonymizer(encryption_key=KEY_B).decrypt(token)


def test_bad_operators_and_overlapping_findings_are_refused() -> None:
    with pytest.raises(AnonymizationError, match="unknown operator 'shred'"):
        _run("shred")
    overlapping = [Finding(EMAIL, 0, 10, 1.0, "t"), Finding(CREDIT_CARD, 5, 12, 1.0, "t")]
    with pytest.raises(AnonymizationError, match="overlap"):
        Anonymizer().anonymize("x" * 20, overlapping, "replace")
    with pytest.raises(AnonymizationError, match="negative"):
        Anonymizer(keep_last=-1)
