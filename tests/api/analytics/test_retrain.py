"""Auto-retrain API: config, triggers with cooldown and daily limit, queue and history; promotion ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mlsec.core.database import Database
from mlsec.core.settings import Settings

pytestmark = pytest.mark.anyio


async def _configure(analytics: httpx.AsyncClient, model: str, **auto_retrain: Any) -> None:
    response = await analytics.put("/auto-retrain/config", json={"model_name": model, "auto_retrain": auto_retrain})
    assert response.status_code == 200, response.text


async def _settled(analytics: httpx.AsyncClient, model: str) -> list[dict[str, Any]]:
    """The model's requests once none is queued or running (training is not running in these tests)."""
    for _ in range(200):
        history = (await analytics.get("/auto-retrain/history", params={"model_name": model})).json()["requests"]
        if all(r["status"] not in ("queued", "running") for r in history):
            return list(history)
        await asyncio.sleep(0.05)
    raise AssertionError("retrain requests did not settle")


async def test_config_defaults_and_a_models_own(analytics: httpx.AsyncClient) -> None:
    listed = (await analytics.get("/auto-retrain/config")).json()
    assert listed["defaults"]["model_name"] == "*" and listed["models"] == []
    assert listed["defaults"]["auto_retrain"]["daily_limit"] == 3
    await _configure(analytics, "m1", cooldown_minutes=0, daily_limit=5)
    one = (await analytics.get("/auto-retrain/config", params={"model_name": "m1"})).json()["models"][0]
    assert one["stored"] is True and one["auto_retrain"]["daily_limit"] == 5
    assert one["drift"]["alpha"] == 0.05  # untouched sections keep their values


@pytest.mark.parametrize(
    "body",
    [
        {"model_name": "m1"},
        {"model_name": "m1", "auto_retrain": {"daily_limit": -1}},
        {"model_name": "m1", "auto_retrain": {"triggers": ["sunspots"]}},
        {"model_name": "bad name", "auto_retrain": {}},
        {"model_name": "m1", "promotion": {"alpha": 2}},
    ],
)
async def test_bad_config_is_refused(analytics: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert (await analytics.put("/auto-retrain/config", json=body)).status_code == 422


async def test_cooldown_holds_and_force_bypasses_it(analytics: httpx.AsyncClient) -> None:
    await _configure(analytics, "m2", cooldown_minutes=60, daily_limit=10)
    first = (await analytics.post("/auto-retrain/trigger/m2", json={"reason": "first"})).json()
    assert first["status"] == "queued" and first["trigger"] == "manual"
    history = await _settled(analytics, "m2")
    assert history[0]["status"] == "failed"  # training is not running here: the request says so
    assert "training" in str(history[0]["detail"]["error"])
    second = (await analytics.post("/auto-retrain/trigger/m2", json={"reason": "second"})).json()
    assert second["status"] == "skipped" and second["reason"].startswith("cooldown")
    forced = (await analytics.post("/auto-retrain/trigger/m2", json={"reason": "third", "force": True})).json()
    assert forced["status"] == "queued"
    await _settled(analytics, "m2")


async def test_the_daily_limit_holds(analytics: httpx.AsyncClient) -> None:
    await _configure(analytics, "m3", cooldown_minutes=0, daily_limit=2)
    statuses = []
    for index in range(3):
        statuses.append((await analytics.post("/auto-retrain/trigger/m3", json={"reason": f"r{index}"})).json())
        await _settled(analytics, "m3")
    assert [s["status"] for s in statuses] == ["queued", "queued", "skipped"]
    assert statuses[2]["reason"].startswith("daily limit")
    queue = (await analytics.get("/auto-retrain/queue")).json()
    assert queue == {"requests": [], "running": 0, "queued": 0}


async def test_trigger_and_history_validate_input(analytics: httpx.AsyncClient) -> None:
    assert (await analytics.post("/auto-retrain/trigger/bad name", json={})).status_code == 422
    assert (await analytics.post("/auto-retrain/trigger/m4", json={"reason": ""})).status_code == 422
    assert (await analytics.post("/auto-retrain/trigger/m4", json={"surprise": True})).status_code == 422
    assert (await analytics.get("/auto-retrain/history", params={"limit": 501})).status_code == 422


async def test_promotion_without_a_registry_and_an_empty_ledger(analytics: httpx.AsyncClient) -> None:
    evaluated = await analytics.post("/promotion/evaluate/m5", json={})
    assert evaluated.status_code in (404, 503)  # no MLflow server in this test: unreachable, or unknown model
    assert evaluated.json()["error"] is True
    assert (await analytics.post("/promotion/evaluate/m5", json={"challenger_version": "x"})).status_code == 422
    ledger = (await analytics.get("/promotion/ledger/m5")).json()
    assert ledger["records"] == [] and ledger["total"] == 0
    missing = await analytics.get("/promotion/champion/m5", params={"at": "2026-01-01T00:00:00Z"})
    assert missing.status_code == 404
    assert (await analytics.get("/promotion/champion/m5", params={"at": "yesterday"})).status_code == 422


async def test_the_ledger_refuses_updates_and_deletes(analytics: httpx.AsyncClient, settings: Settings) -> None:
    db = Database(settings.database_url_for("analytics"))
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO promotion_record (created_at, model_name, action, actor, summary, evidence) "
                    "VALUES (CURRENT_TIMESTAMP, 'm6', 'observed', 'registry', 's', '{}')"
                )
            )
        for statement in ("UPDATE promotion_record SET actor = 'me'", "DELETE FROM promotion_record"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.engine.begin() as conn:
                    await conn.execute(text(statement))
    finally:
        await db.dispose()
    ledger = (await analytics.get("/promotion/ledger/m6")).json()
    assert [r["actor"] for r in ledger["records"]] == ["registry"]
