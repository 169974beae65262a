"""`/classify` and `/classify/history`: findings, level, reasons; the history never holds the text."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

TEXT = "Card 4111 1111 1111 1111, mail ann.lee@example.com"


async def test_classify_finds_types_and_level(privacy: httpx.AsyncClient) -> None:
    response = await privacy.post("/classify", json={"text": TEXT})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["level"] == "restricted"
    assert body["counts"] == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1}
    spans = {(f["type"], TEXT[f["start"] : f["end"]]) for f in body["findings"]}
    assert spans == {("CREDIT_CARD", "4111 1111 1111 1111"), ("EMAIL_ADDRESS", "ann.lee@example.com")}
    assert any("payment card" in reason for reason in body["reasons"])


async def test_history_keeps_no_text(privacy: httpx.AsyncClient) -> None:
    await privacy.post("/classify", json={"text": TEXT})
    await privacy.post("/classify", json={"text": "nothing personal here"})
    history = (await privacy.get("/classify/history")).json()
    assert history["total"] == 2
    assert [item["level"] for item in history["items"]] == ["public", "restricted"]
    assert "ann.lee" not in str(history) and "4111" not in str(history)
    assert history["items"][1]["text_length"] == len(TEXT)
    only = (await privacy.get("/classify/history", params={"level": "restricted"})).json()
    assert only["total"] == 1


async def test_entities_and_threshold_narrow(privacy: httpx.AsyncClient) -> None:
    body = (await privacy.post("/classify", json={"text": TEXT, "entities": ["EMAIL_ADDRESS"]})).json()
    assert body["counts"] == {"EMAIL_ADDRESS": 1} and body["level"] == "confidential"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"text": ""}, 422),
        ({}, 422),
        ({"text": "x", "entities": ["NOT_A_TYPE"]}, 422),
        ({"text": "x", "threshold": 1.5}, 422),
        ({"text": "x", "extra": 1}, 422),
        ({"text": "x" * 100_001}, 413),
    ],
)
async def test_bad_input(privacy: httpx.AsyncClient, payload: dict[str, object], status: int) -> None:
    response = await privacy.post("/classify", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"] is True


async def test_history_bad_query(privacy: httpx.AsyncClient) -> None:
    assert (await privacy.get("/classify/history", params={"level": "secret"})).status_code == 422
    assert (await privacy.get("/classify/history", params={"limit": 0})).status_code == 422


async def test_names_and_places_are_found_by_default(privacy: httpx.AsyncClient) -> None:
    text = "Dr Jane Miller moved to Lisbon last spring."
    body = (await privacy.post("/classify", json={"text": text})).json()
    spans = {(f["type"], text[f["start"] : f["end"]]) for f in body["findings"]}
    assert ("PERSON", "Jane Miller") in spans or ("PERSON", "Dr Jane Miller") in spans
    assert ("LOCATION", "Lisbon") in spans
    assert body["level"] == "confidential"
