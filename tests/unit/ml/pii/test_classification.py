"""Sensitivity levels from real findings, with reasons and counts but never the values."""

from __future__ import annotations

import pytest

from mlsec.ml.pii import PiiEngine
from mlsec.ml.pii.classification import classify


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("What is the weather like in Paris?", "public"),
        ("the docs are at https://wiki.internal.example/page", "internal"),
        ("write to jane@example.com", "confidential"),
        ("login from 203.0.113.7", "confidential"),
        ("born on 12/03/1985", "confidential"),
        ("card 4111 1111 1111 1111", "restricted"),
        ("IBAN DE89 3704 0044 0532 0130 00", "restricted"),
        ("token ghp_" + "a" * 36, "restricted"),
        ("jane@example.com, born on 12/03/1985", "restricted"),  # a birth date tied to a person
    ],
)
def test_levels(text: str, level: str) -> None:
    assert classify(PiiEngine().scan(text)).level == level


def test_reasons_and_counts_name_types_never_values() -> None:
    text = "Mail jane@example.com or bob@example.org; card 4111 1111 1111 1111"
    result = classify(PiiEngine().scan(text))
    assert result.level == "restricted"
    assert result.counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 2}
    assert result.reasons == [
        "1 CREDIT_CARD: payment card data (restricted)",
        "2 EMAIL_ADDRESS: contact data that identifies a person (confidential)",
    ]
    assert not any(value in " ".join(result.reasons) for value in ("jane", "bob", "4111"))


def test_nothing_found_is_public_without_reasons() -> None:
    result = classify([])
    assert (result.level, result.reasons, result.counts) == ("public", [], {})
