"""Answers straight from the snapshot's ready JSON, with what a client must know of their freshness.

`Age` (RFC 9111) says how many seconds ago MLflow was read for it; `X-Mlsec-Stale` is present, with the reason,
when the snapshot could not be confirmed by MLflow lately (the service keeps answering from it)."""

from __future__ import annotations

from fastapi import Response

from mlsec.services.control_tower.state import ControlTower

STALE_HEADER = "X-Mlsec-Stale"
UNAVAILABLE_HEADER = "X-Mlsec-Unavailable"


def freshness_headers(tower: ControlTower) -> dict[str, str]:
    if not tower.settings.enable_cache:
        return {"Age": "0"}
    freshness = tower.cache.freshness()
    headers = {"Age": str(int(freshness.age_seconds or 0))}
    if freshness.stale:
        reason = (freshness.reason or "stale").encode("ascii", "replace").decode()[:200]
        headers[STALE_HEADER] = reason
    return headers


def json_answer(tower: ControlTower, body: bytes) -> Response:
    return Response(content=body, media_type="application/json", headers=freshness_headers(tower))


def mark(response: Response, tower: ControlTower) -> None:
    """Put the freshness headers on a response FastAPI builds from a returned model."""
    response.headers.update(freshness_headers(tower))
