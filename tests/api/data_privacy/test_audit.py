"""`/audit/logs` and `/audit/verify`: every privacy action is written; a changed, removed or re-hashed row in the
database is named by verify."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update

from mlsec.core.settings import Settings
from mlsec.services.data_privacy.app import create_app
from mlsec.services.data_privacy.models import AuditEntry
from mlsec.services.data_privacy.service.audit import entry_hash
from tests.api.data_privacy.conftest import privacy_settings, subject, unreachable_stores
from tests.conftest import started_client

pytestmark = pytest.mark.anyio


@dataclass
class Running:
    app: FastAPI
    http: httpx.AsyncClient


@pytest.fixture
async def running(backend_settings: Settings) -> AsyncIterator[Running]:
    app = create_app(unreachable_stores(backend_settings), privacy_settings())
    async for client in started_client(app):
        yield Running(app, client)


async def _five_entries(http: httpx.AsyncClient) -> None:
    for n in range(5):
        await subject(http, f"user-{n}", f"u{n}@example.com")


async def test_actions_are_chained_and_verify(running: Running) -> None:
    await _five_entries(running.http)
    logs = (await running.http.get("/audit/logs", params={"limit": 10})).json()
    assert logs["total"] == 5
    items = list(reversed(logs["items"]))
    assert [e["action"] for e in items] == ["subject.registered"] * 5
    assert items[0]["prev_hash"] == "0" * 64
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(items))
    assert (await running.http.get("/audit/verify")).json() == {
        "valid": True,
        "entries": 5,
        "first_seq": 1,
        "head_seq": 5,
        "broken_seq": None,
        "broken_id": None,
        "reason": None,
    }


async def _tamper(app: FastAPI, statement: object) -> None:
    async with app.state.ctx.db.session() as session:
        await session.execute(statement)


async def test_a_changed_row_is_named(running: Running) -> None:
    await _five_entries(running.http)
    await _tamper(running.app, update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone-else"))
    result = (await running.http.get("/audit/verify")).json()
    assert result["valid"] is False and result["broken_seq"] == 3
    assert "changed" in result["reason"]
    status = (await running.http.get("/compliance/status")).json()
    assert status["status"] == "non_compliant"
    assert {c["name"]: c["status"] for c in status["checks"]}["audit_chain"] == "fail"


async def test_a_rehashed_row_breaks_the_next_link(running: Running) -> None:
    await _five_entries(running.http)
    async with running.app.state.ctx.db.session() as session:
        row = await session.get(AuditEntry, 2) or (await session.execute(AuditEntry.__table__.select())).first()
        assert row is not None
        forged = entry_hash(
            seq=row.seq,
            created_at=row.created_at,
            actor="forger",
            action=row.action,
            target=row.target,
            details=row.details,
            prev=row.prev_hash,
        )
        row.actor, row.hash = "forger", forged
    result = (await running.http.get("/audit/verify")).json()
    assert result["valid"] is False and result["broken_seq"] == row.seq + 1
    assert "prev_hash" in result["reason"]


async def test_removed_rows_are_found(running: Running) -> None:
    await _five_entries(running.http)
    await _tamper(running.app, delete(AuditEntry).where(AuditEntry.seq == 2))
    middle = (await running.http.get("/audit/verify")).json()
    assert middle["valid"] is False and middle["broken_seq"] == 3 and "missing" in middle["reason"]


async def test_a_removed_last_row_is_found(running: Running) -> None:
    await _five_entries(running.http)
    await _tamper(running.app, delete(AuditEntry).where(AuditEntry.seq == 5))
    result = (await running.http.get("/audit/verify")).json()
    assert result["valid"] is False and "head" in result["reason"]


async def test_filters_and_bad_query(running: Running) -> None:
    await _five_entries(running.http)
    await running.http.post("/consent/record", json={"subject_id": "user-0", "purpose": "training"})
    granted = (await running.http.get("/audit/logs", params={"action": "consent.granted"})).json()
    assert granted["total"] == 1 and granted["items"][0]["target"] == "user-0"
    assert (await running.http.get("/audit/logs", params={"limit": 5000})).status_code == 422
    assert (await running.http.get("/audit/logs", params={"since": "yesterday"})).status_code == 422


async def test_concurrent_first_appends_form_one_chain(running: Running) -> None:
    """A fresh log: requests arriving together all append (the head row exists from start-up), in one line."""
    import asyncio

    answers = await asyncio.gather(*(subject(running.http, f"burst-{n}", f"b{n}@example.com") for n in range(8)))
    assert len(answers) == 8
    result = (await running.http.get("/audit/verify")).json()
    assert result["valid"] is True and result["entries"] == 8
