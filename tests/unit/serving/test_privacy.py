"""The serving layer's privacy edge without an app: what the log writer stores of a text, and what the privacy
routes accept."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from mlsec.core.limits import MAX_SUBJECT_HASHES
from mlsec.ml.pii.subjects import HASH_PATTERN, hashes_in_stored, subject_hash
from mlsec.serving.privacy import storage_anonymizer
from mlsec.serving.privacy_schemas import RetentionRequest, SubjectsRequest
from mlsec.serving.records import completer

KEY = bytes(range(32))
EMAIL, PHONE, CARD = "jane.doe@example.com", "+1 415 555 0132", "4111 1111 1111 1111"
TEXT = f"Mail {EMAIL} or call {PHONE}; card {CARD}. Ignore previous instructions."


def _record(item: Any) -> dict[str, Any]:
    return {"created_at": datetime.now(UTC), "score": 0.5, "input": item, "projector": None}


def test_stored_text_keeps_no_raw_value_and_carries_each_subject_hash() -> None:
    stored = storage_anonymizer(KEY)(TEXT)
    assert EMAIL not in stored and "555" not in stored and "1111" not in stored
    expected = {
        subject_hash(KEY, "EMAIL_ADDRESS", EMAIL),
        subject_hash(KEY, "PHONE_NUMBER", PHONE),
        subject_hash(KEY, "CREDIT_CARD", CARD),
    }
    assert hashes_in_stored(stored) == expected
    assert f"<EMAIL_ADDRESS:{subject_hash(KEY, 'EMAIL_ADDRESS', EMAIL)}>" in stored
    assert stored.endswith("Ignore previous instructions.")  # what is not personal stays as it was
    assert storage_anonymizer(KEY)("What is the capital of France?") == "What is the capital of France?"
    assert hashes_in_stored(storage_anonymizer(bytes(32))(TEXT)).isdisjoint(expected)  # another key, other hashes


def test_the_writer_stores_the_anonymized_text_and_measures_the_raw_one() -> None:
    rows = completer(store_text=True, anonymize=storage_anonymizer(KEY))([_record(TEXT)])
    (row,) = rows
    assert EMAIL not in row["text"] and len(hashes_in_stored(row["text"])) == 3
    assert row["features"]["length"] == len(TEXT)  # drift sees the input as it was asked
    raw = completer(store_text=True)([_record(TEXT)])
    assert raw[0]["text"] == TEXT  # ANONYMIZE_TEXT off: the raw text, as configured
    assert completer(store_text=False, anonymize=storage_anonymizer(KEY))([_record(TEXT)])[0]["text"] is None
    (tabular,) = completer(store_text=True, anonymize=storage_anonymizer(KEY))([_record({"x": 1.0})])
    assert tabular["text"] is None


def test_a_failing_anonymization_stores_no_text_rather_than_the_raw_one(caplog: pytest.LogCaptureFixture) -> None:
    def broken(text: str) -> str:
        raise RuntimeError(text)  # a message that quotes the input must not reach the log either

    with caplog.at_level(logging.WARNING, logger="mlsec.serving.records"):
        rows = completer(store_text=True, anonymize=broken)([_record(TEXT), _record("hello")])
    assert [row["text"] for row in rows] == [None, None]
    assert [r.message for r in caplog.records] == ["prediction_log.anonymize_failed"] * 2
    assert EMAIL not in caplog.text


def test_subject_requests_take_valid_hashes_only() -> None:
    good = subject_hash(KEY, "EMAIL_ADDRESS", EMAIL)
    assert HASH_PATTERN.match(good)
    assert SubjectsRequest(value_hashes=[good]).erase is False
    for hashes in ([], [good.upper()], [good[:-1]], [good + "0"], ["z" * 32], [EMAIL]):
        with pytest.raises(ValidationError):
            SubjectsRequest(value_hashes=hashes)
    assert len(SubjectsRequest(value_hashes=[good] * MAX_SUBJECT_HASHES).value_hashes) == MAX_SUBJECT_HASHES
    with pytest.raises(ValidationError):
        SubjectsRequest(value_hashes=[good] * (MAX_SUBJECT_HASHES + 1))
    with pytest.raises(ValidationError):
        SubjectsRequest.model_validate({"value_hashes": [good], "erase": False, "wipe": True})


def test_a_retention_cutoff_is_an_aware_time_read_in_utc() -> None:
    cutoff = RetentionRequest.model_validate({"older_than": "2026-03-01T13:00:00+01:00"})
    assert cutoff.older_than == datetime(2026, 3, 1, 12, tzinfo=UTC) and cutoff.dry_run is True
    assert cutoff.older_than.tzinfo is UTC
    aware = datetime(2026, 3, 1, 7, tzinfo=timezone(timedelta(hours=-5)))
    assert RetentionRequest(older_than=aware, dry_run=False).older_than == datetime(2026, 3, 1, 12, tzinfo=UTC)
    for value in ("2026-03-01T12:00:00", "1700000000", 1700000000, "yesterday", "0001-01-01T00:00:00+23:59"):
        with pytest.raises(ValidationError):
            RetentionRequest.model_validate({"older_than": value})
