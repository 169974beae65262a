"""The engine on the shipped labelled PII data (data/pii_presidio_synth_v2_train.jsonl, never used to choose a rule),
and the evaluation's matching rule itself."""

from __future__ import annotations

import json
from pathlib import Path

from mlsec.ml.pii import PiiEngine
from mlsec.ml.pii.evaluation import evaluate
from mlsec.ml.pii.findings import CREDIT_CARD, EMAIL, IBAN, IP_ADDRESS, PHONE, US_SSN, Finding

DATA = Path(__file__).resolve().parents[4] / "data" / "pii_presidio_synth_v2_train.jsonl"
STRUCTURED = (EMAIL, CREDIT_CARD, IBAN, IP_ADDRESS, US_SSN)


def _documents() -> list[tuple[str, list[tuple[str, int, int]]]]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    return [(r["text"], [(e["type"], e["start"], e["end"]) for e in r["entities"]]) for r in rows]


def test_structured_types_are_found_exactly_on_the_shipped_data() -> None:
    scores = evaluate(PiiEngine().scan, _documents(), (*STRUCTURED, PHONE))
    table = {k: (v.true_positives, v.false_positives, v.false_negatives) for k, v in scores.items()}
    for kind in STRUCTURED:  # checksummed or unambiguous: nothing invented, (almost) nothing missed
        assert scores[kind].precision == 1.0, table
        assert (scores[kind].recall or 0) >= 0.95, table
    # Many of the set's phone numbers are fake ranges no country issues: found only with a phone word near.
    assert (scores[PHONE].precision or 0) >= 0.85 and (scores[PHONE].recall or 0) >= 0.6, table


def test_rows_without_entities_yield_no_structured_finding() -> None:
    engine = PiiEngine(types=STRUCTURED)
    negatives = [text for text, spans in _documents() if not spans]
    assert len(negatives) >= 100
    assert [text for text in negatives if engine.scan(text)] == []


def test_a_hit_needs_the_type_and_half_the_union() -> None:
    text = "call +1 415 555 0100 now"

    def scan(_: str) -> list[Finding]:
        return [Finding(PHONE, 5, 20, 0.9, "x"), Finding(EMAIL, 0, 4, 0.9, "x")]

    scores = evaluate(scan, [(text, [(PHONE, 0, 20), (EMAIL, 21, 24)])], (PHONE, EMAIL))
    assert (scores[PHONE].true_positives, scores[PHONE].false_positives) == (1, 0)  # 15/20 of the union
    assert (scores[EMAIL].true_positives, scores[EMAIL].false_positives, scores[EMAIL].false_negatives) == (0, 1, 1)
    assert scores["ALL"].f1 == 0.5
