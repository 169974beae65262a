"""`/anonymize`, `/anonymize/batch` and `/anonymize/decrypt`: every operator, pseudonym consistency, bad input."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio

TEXT = "Reach ann.lee@example.com or 4111 1111 1111 1111"


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("replace", "Reach <EMAIL_ADDRESS> or <CREDIT_CARD>"),
        ("redact", "Reach  or "),
        ("mask", "Reach ***.**********e.com or **** **** **** 1111"),  # separators kept, last 4 kept
    ],
)
async def test_operators(privacy: httpx.AsyncClient, operator: str, expected: str) -> None:
    response = await privacy.post("/anonymize", json={"text": TEXT, "operator": operator})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == expected
    assert body["findings"] == 2
    for item in body["items"]:
        assert item["operator"] == operator
        if operator == "replace":
            assert body["text"][item["start"] : item["end"]] == f"<{item['type']}>"


async def test_hash_is_keyed_and_stable(privacy: httpx.AsyncClient) -> None:
    first = (await privacy.post("/anonymize", json={"text": TEXT, "operator": "hash"})).json()["text"]
    second = (await privacy.post("/anonymize", json={"text": TEXT, "operator": "hash"})).json()["text"]
    assert first == second and "ann.lee" not in first
    assert re.fullmatch(r"Reach [0-9a-f]{64} or [0-9a-f]{64}", first)


async def test_operators_per_type(privacy: httpx.AsyncClient) -> None:
    body = {"text": TEXT, "operator": "redact", "operators": {"CREDIT_CARD": "mask"}, "keep_last": 2}
    text = (await privacy.post("/anonymize", json=body)).json()["text"]
    assert text == "Reach  or **** **** **** **11"


async def test_encrypt_then_decrypt_is_audited(privacy: httpx.AsyncClient) -> None:
    body = (await privacy.post("/anonymize", json={"text": TEXT, "operators": {"EMAIL_ADDRESS": "encrypt"}})).json()
    token = re.search(r"enc:v1:[A-Za-z0-9_-]+", body["text"])
    assert token is not None and "ann.lee" not in body["text"]
    decrypted = await privacy.post("/anonymize/decrypt", json={"token": token.group(), "reason": "subject access"})
    assert decrypted.status_code == 200, decrypted.text
    assert decrypted.json()["value"] == "ann.lee@example.com"
    logs = (await privacy.get("/audit/logs", params={"action": "privacy.decrypt"})).json()
    assert logs["total"] == 1
    assert logs["items"][0]["details"]["reason"] == "subject access"
    assert "ann.lee" not in str(logs)


async def test_decrypt_refuses_a_changed_token(privacy: httpx.AsyncClient) -> None:
    body = (await privacy.post("/anonymize", json={"text": TEXT, "operator": "encrypt"})).json()
    token = re.search(r"enc:v1:[A-Za-z0-9_-]+", body["text"])
    assert token is not None
    changed = token.group()[:-2] + ("AA" if not token.group().endswith("AA") else "BB")
    response = await privacy.post("/anonymize/decrypt", json={"token": changed, "reason": "testing"})
    assert response.status_code == 422


async def test_pseudonyms_consistent_in_a_batch(privacy: httpx.AsyncClient) -> None:
    texts = ["from a@example.com to b@example.com", "again b@example.com", "and A@example.com"]
    response = await privacy.post("/anonymize/batch", json={"texts": texts, "operator": "pseudonymize"})
    assert response.status_code == 200, response.text
    out = [r["text"] for r in response.json()["results"]]
    assert out == [
        "from <EMAIL_ADDRESS_1> to <EMAIL_ADDRESS_2>",
        "again <EMAIL_ADDRESS_2>",
        "and <EMAIL_ADDRESS_1>",
    ]
    assert response.json()["count"] == 3 and response.json()["findings"] == 4


async def test_pseudonyms_consistent_for_a_subject_across_requests(privacy: httpx.AsyncClient) -> None:
    def ask(text: str, subject: str) -> dict[str, object]:
        return {"text": text, "operator": "pseudonymize", "subject_id": subject}

    one = (await privacy.post("/anonymize", json=ask("mail a@example.com", "u1"))).json()["text"]
    two = (await privacy.post("/anonymize", json=ask("again a@example.com", "u1"))).json()["text"]
    other = (await privacy.post("/anonymize", json=ask("mail a@example.com", "u2"))).json()["text"]
    assert one.split()[-1] == two.split()[-1] != other.split()[-1]


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/anonymize", {"text": "x", "operator": "shred"}, 422),
        ("/anonymize", {"text": "x", "operators": {"EMAIL_ADDRESS": "shred"}}, 422),
        ("/anonymize", {"text": "x", "operators": {"NOPE": "mask"}}, 422),
        ("/anonymize", {"text": ""}, 422),
        ("/anonymize", {"text": "x", "keep_last": -1}, 422),
        ("/anonymize", {"text": "x" * 100_001}, 413),
        ("/anonymize/batch", {"texts": []}, 422),
        ("/anonymize/batch", {"texts": ["x"] * 1001}, 413),
        ("/anonymize/batch", {"texts": ["ok", "x" * 100_001]}, 413),
        ("/anonymize/decrypt", {"token": "enc:v1:abc", "reason": "x"}, 422),
        ("/anonymize/decrypt", {"token": "plain-text-token", "reason": "testing"}, 422),
    ],
)
async def test_bad_input(privacy: httpx.AsyncClient, path: str, payload: dict[str, object], status: int) -> None:
    response = await privacy.post(path, json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"] is True
