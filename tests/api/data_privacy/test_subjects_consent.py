"""`/data-subjects` and `/consent/...`: registration by keyed hash, versioned consent, withdrawal, the training
check, and what the subject's detail says when the stores cannot be reached."""

from __future__ import annotations

import httpx
import pytest

from tests.api.data_privacy.conftest import subject

pytestmark = pytest.mark.anyio


async def test_register_keeps_only_hashes(privacy: httpx.AsyncClient) -> None:
    body = await subject(privacy, "user-1", "Ann.Lee@Example.com")
    assert body["created"] is True and body["status"] == "active"
    assert "ann" not in str(body).lower()
    (identifier,) = body["identifiers"]
    assert identifier["entity_type"] == "EMAIL_ADDRESS" and len(identifier["value_hash"]) == 32
    again = await privacy.post(
        "/data-subjects",
        json={"subject_id": "user-1", "identifiers": [{"type": "EMAIL_ADDRESS", "value": "ann.lee@example.com"}]},
    )
    assert again.status_code == 200 and len(again.json()["identifiers"]) == 1  # the same address, normalized
    listing = (await privacy.get("/data-subjects")).json()
    assert listing["total"] == 1 and listing["items"][0]["identifiers"] == 1


async def test_detail_says_which_store_is_unreachable(privacy: httpx.AsyncClient) -> None:
    await subject(privacy, "user-2")
    detail = (await privacy.get("/data-subjects/user-2")).json()
    assert {s["store"]: s["ok"] for s in detail["stores"]} == {
        "training": False,
        "model-api": False,
        "model-cache": False,
    }
    assert detail["prediction_log_rows"] == {"model-api": None, "model-cache": None}


async def test_erasure_with_stores_down_is_partial_and_recorded(privacy: httpx.AsyncClient) -> None:
    await subject(privacy, "user-3")
    await privacy.post("/consent/record", json={"subject_id": "user-3", "purpose": "training"})
    response = await privacy.delete("/data-subjects/user-3")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "partial"
    detail = (await privacy.get("/data-subjects/user-3")).json()
    assert detail["status"] == "erasure_pending"
    assert detail["consents"]["training"]["granted"] is False
    actions = [e["action"] for e in (await privacy.get("/audit/logs")).json()["items"]]
    assert actions[0] == "subject.erasure_partial"


async def test_consent_versions_and_withdrawal(privacy: httpx.AsyncClient) -> None:
    await subject(privacy, "user-4")
    first = await privacy.post(
        "/consent/record", json={"subject_id": "user-4", "purpose": "training", "policy_version": "2026-01"}
    )
    assert first.status_code == 201 and first.json()["version"] == 1
    await privacy.post("/consent/record", json={"subject_id": "user-4", "purpose": "analytics"})
    body = {"subject_id": "user-4", "purposes": ["training"]}
    withdrawn = (await privacy.post("/consent/withdraw", json=body)).json()
    assert [(w["purpose"], w["version"], w["granted"]) for w in withdrawn["withdrawn"]] == [("training", 2, False)]
    status = (await privacy.get("/consent/status/user-4")).json()
    assert status["purposes"]["training"]["granted"] is False
    assert status["purposes"]["analytics"]["granted"] is True
    assert [(h["purpose"], h["version"]) for h in status["history"]] == [
        ("analytics", 1),
        ("training", 1),
        ("training", 2),
    ]


async def test_consent_check_names_subjects_without_consent(privacy: httpx.AsyncClient) -> None:
    with_consent = await subject(privacy, "user-5", "five@example.com")
    without = await subject(privacy, "user-6", "six@example.com")
    await privacy.post("/consent/record", json={"subject_id": "user-5", "purpose": "training"})
    hashes = [with_consent["identifiers"][0]["value_hash"], without["identifiers"][0]["value_hash"], "0" * 32]
    result = (await privacy.post("/consent/check", json={"purpose": "training", "value_hashes": hashes})).json()
    assert result == {
        "purpose": "training",
        "subjects_without_consent": ["user-6"],
        "count": 1,
        "subjects_with_consent": 1,
    }


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("GET", "/data-subjects/nobody", None, 404),
        ("DELETE", "/data-subjects/nobody", None, 404),
        ("GET", "/data-subjects/bad%20id", None, 422),
        ("GET", "/consent/status/nobody", None, 404),
        ("POST", "/consent/record", {"subject_id": "nobody", "purpose": "training"}, 404),
        ("POST", "/consent/withdraw", {"subject_id": "nobody"}, 404),
        ("POST", "/data-subjects", {"subject_id": "u", "identifiers": []}, 422),
        ("POST", "/data-subjects", {"subject_id": "u", "identifiers": [{"type": "URL", "value": "x"}]}, 422),
        ("POST", "/data-subjects", {"subject_id": "a b", "identifiers": [{"type": "IBAN_CODE", "value": "1"}]}, 422),
        ("POST", "/consent/check", {"purpose": "training", "value_hashes": ["not-a-hash"]}, 422),
        ("POST", "/consent/check", {"purpose": "dancing", "value_hashes": []}, 422),
        ("GET", "/data-subjects?status=gone", None, 422),
    ],
)
async def test_bad_input(
    privacy: httpx.AsyncClient, method: str, path: str, payload: dict[str, object] | None, status: int
) -> None:
    response = await privacy.request(method, path, json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"] is True


async def test_unknown_purpose_and_erased_subject(privacy: httpx.AsyncClient) -> None:
    await subject(privacy, "user-7")
    bad = await privacy.post("/consent/record", json={"subject_id": "user-7", "purpose": "dancing"})
    assert bad.status_code == 422 and "training" in bad.json()["message"]
