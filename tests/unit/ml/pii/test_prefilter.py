"""The recognizers' pre-checks (`mlsec.ml.pii.prefilter`): every recognizer finds the same with them as without
them, on the shipped data and on texts made to slip past a careless check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from mlsec.ml.pii import contact, credentials, financial, identifiers, phones
from mlsec.ml.pii.engine import DEFAULT_TYPES, RECOGNIZERS
from mlsec.ml.pii.findings import Finding
from mlsec.ml.pii.prefilter import has_any, has_count, has_digits, has_text
from tests.unit.ml.pii.test_phones import arabic, wide

DATA = Path(__file__).resolve().parents[4] / "data" / "pii_presidio_synth_v2_train.jsonl"
CHECKED: dict[ModuleType, tuple[str, ...]] = {
    contact: ("has_any", "has_text"),
    credentials: ("has_any", "has_text"),
    financial: ("has_digits",),
    identifiers: ("has_any", "has_count", "has_digits"),
    phones: ("has_digits",),
}
TRICKY = [
    "WWW.EXAMPLE.COM and HTTPS://EXAMPLE.ORG/A",  # upper case
    "\u017fecret=hunter2hunter2 and PASSWORD: Hunter2Hunter2 and Api-Key=0123456789abcdef",  # a long s: an s
    "BORN 1/2/85, D.O.B. 1990-07-21, Date Of Birth: 4 March 1977",
    "call " + arabic("030 901820") + " or " + wide("03-1234-5678"),  # digits of other scripts
    "card " + wide("4111 1111 1111 1111") + " and " + arabic("4111111111111111"),
    "ssn " + arabic("536-22-1234") + " and ip " + arabic("192.168.1.10"),
    "2001:db8::1 and fe80::1ff:fe23:4567:890a and ::1",
    "a@b.co x@y.z ops@mlsec.io.",
    "AKIAIOSFODNN7EXAMPLE ghp_" + "a" * 36 + " sk-" + "b" * 24 + " xoxb-1234567890-abc sk_live_" + "c" * 16,
    "postgresql://app:hunter22@db:5432/x",
    "-----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJ\n-----END PRIVATE KEY-----",
]


def _texts() -> list[str]:
    rows = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
    return rows + TRICKY


def _findings(texts: list[str]) -> Iterator[tuple[str, str, list[Finding]]]:
    for kind in DEFAULT_TYPES:
        recognize = RECOGNIZERS[kind]
        for text in texts:
            yield kind, text, list(recognize(text))


def test_every_recognizer_finds_the_same_without_its_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()
    checked = list(_findings(texts))
    for module, names in CHECKED.items():
        for name in names:
            monkeypatch.setattr(module, name, lambda *args: True)
    unchecked = list(_findings(texts))
    assert [(kind, text) for (kind, text, a), (_, _, b) in zip(checked, unchecked, strict=True) if a != b] == []
    assert sum(1 for _, _, found in checked if found) > 250  # there was something to lose


def test_the_checks_do_skip_texts() -> None:
    texts = _texts()
    assert sum(not has_digits(text, 12) for text in texts) > len(texts) / 2
    assert sum(not has_text(text, ("@",)) for text in texts) > len(texts) / 2


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [("12345", 5, True), ("12345", 6, False), (arabic("12345") + " 6", 6, True), ("x", 0, True), ("\u00b2", 1, False)],
)
def test_has_digits_counts_the_digits_of_every_script(text: str, count: int, expected: bool) -> None:
    assert has_digits(text, count) is expected


def test_has_any_ignores_case_the_way_patterns_do() -> None:
    assert has_any("SECRET", ("secret",)) and has_any("\u017fecret", ("secret",)) and not has_any("secre", ("secret",))
    assert has_text("a@b", ("@",)) and not has_text("WWW.", ("www.",))
    assert has_count("1.2.3.4", ".", 3) and not has_count("1.2", ".", 2)
