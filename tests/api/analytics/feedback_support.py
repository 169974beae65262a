"""Feedback items as the tests send them to `POST /feedback`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx


def item(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"model_name": "guard", "model_version": "1", "prediction": "1", "true_label": "1"}
    values.update(overrides)
    return values


def at(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()


async def send(client: httpx.AsyncClient, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = await client.post("/feedback", json={"items": items})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
