"""`/retention/...` and `/compliance/...` on the service's own categories, with the other stores unreachable
(their categories say so: incomplete, unknown)."""

from __future__ import annotations

import httpx
import pytest

from tests.api.data_privacy.conftest import subject

pytestmark = pytest.mark.anyio


async def test_policies_default_then_set(privacy: httpx.AsyncClient) -> None:
    policies = {p["category"]: p for p in (await privacy.get("/retention/policies")).json()["policies"]}
    assert set(policies) == {"prediction_logs", "datasets", "classifications", "audit"}
    assert policies["prediction_logs"]["max_age_days"] == 90 and policies["prediction_logs"]["source"] == "default"
    assert policies["datasets"]["max_age_days"] is None
    response = await privacy.put("/retention/policies/datasets", json={"max_age_days": 30})
    assert response.status_code == 200 and response.json()["source"] == "set"
    changed = (await privacy.get("/audit/logs", params={"action": "retention.policy_set"})).json()
    assert changed["items"][0]["details"] == {"before_days": None, "max_age_days": 30}


async def test_status_and_cleanup_of_own_categories(privacy: httpx.AsyncClient) -> None:
    await privacy.post("/classify", json={"text": "mail ann@example.com"})
    await privacy.put("/retention/policies/classifications", json={"max_age_days": 1})
    status = {c["category"]: c for c in (await privacy.get("/retention/status")).json()["categories"]}
    assert status["classifications"]["matched"] == 0 and status["classifications"]["complete"] is True
    assert status["prediction_logs"]["complete"] is False  # the serving services are not running here
    dry = (await privacy.post("/retention/cleanup", json={"categories": ["classifications"]})).json()
    assert dry["dry_run"] is True and dry["deleted"] == 0
    assert (await privacy.get("/classify/history")).json()["total"] == 1


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("PUT", "/retention/policies/traces-of-nothing", {"max_age_days": 1}),
        ("PUT", "/retention/policies/nothing", {"max_age_days": 1}),
        ("PUT", "/retention/policies/datasets", {"max_age_days": 0}),
        ("PUT", "/retention/policies/datasets", {}),
        ("POST", "/retention/cleanup", {"categories": ["nothing"]}),
        ("POST", "/retention/cleanup", {"dry_run": "sometimes"}),
    ],
)
async def test_bad_input(privacy: httpx.AsyncClient, method: str, path: str, payload: dict[str, object]) -> None:
    response = await privacy.request(method, path, json=payload)
    assert response.status_code == 422, response.text


async def test_compliance_unknown_when_stores_are_down(privacy: httpx.AsyncClient) -> None:
    await subject(privacy, "user-1")
    status = (await privacy.get("/compliance/status")).json()
    checks = {c["name"]: c["status"] for c in status["checks"]}
    assert checks["audit_chain"] == "pass"
    assert checks["stores"] == "unknown" and checks["consent"] == "unknown"
    assert status["status"] == "unknown"
    violations = (await privacy.get("/compliance/violations")).json()
    assert violations["count"] == 0 and violations["violations"] == []


async def test_health_paths(privacy: httpx.AsyncClient) -> None:
    assert (await privacy.get("/health/health")).json()["status"] == "healthy"
    assert (await privacy.get("/")).status_code == 200
