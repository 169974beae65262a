"""No input is a 500: offsets, ids, counts and times that do not fit the database or UTC are a 422 at the edge.

Each case answered 500 (OverflowError in the driver, or a PostgreSQL integer out of range) before the bounds of
mlsec.core.limits; each runs on SQLite and, when available, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mlsec.core.limits import MAX_INT32, MAX_INT64
from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app
from tests.api.analytics.conftest import analytics_settings
from tests.conftest import started_client

pytestmark = pytest.mark.anyio
PAST_INT64 = str(2**63)
PAST_INT32 = str(2**31)
LATE = "9999-12-31T23:59:59-23:59"  # after year 9999 in UTC
EARLY = "0001-01-01T00:00:00+23:59"  # before year 1 in UTC


@pytest.fixture
async def analytics(db_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in started_client(create_app(db_settings, analytics_settings())):
        yield client


def _assert_refused(response: httpx.Response, *location: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True and body["status_code"] == 422
    assert list(location) in [error["location"] for error in body["details"]["errors"]], body


@pytest.mark.parametrize(
    "path", ["/drift/history", "/drift/alerts", "/red-team/runs", "/auto-retrain/history", "/promotion/ledger/guard"]
)
async def test_an_offset_past_a_bigint_is_422(analytics: httpx.AsyncClient, path: str) -> None:
    _assert_refused(await analytics.get(path, params={"offset": PAST_INT64}), "query", "offset")
    last = await analytics.get(path, params={"offset": str(MAX_INT64)})
    assert last.status_code == 200 and last.json()["offset"] == MAX_INT64


@pytest.mark.parametrize("run_id", [PAST_INT32, PAST_INT64, "0"])
@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("GET", "/drift/history/{}", None),
        ("GET", "/red-team/runs/{}", None),
        ("POST", "/drift/alerts/{}/acknowledge", {}),
    ],
)
async def test_an_id_outside_the_integer_column_is_422(
    analytics: httpx.AsyncClient, method: str, template: str, body: dict[str, Any] | None, run_id: str
) -> None:
    response = await analytics.request(method, template.format(run_id), json=body)
    name = "alert_id" if "alerts" in template else "run_id"
    _assert_refused(response, "path", name)
    assert (await analytics.request(method, template.format(MAX_INT32), json=body)).status_code == 404


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/export/production-data/guard", "since"),
        ("/export/production-data/guard", "until"),
        ("/promotion/champion/guard", "at"),
    ],
)
@pytest.mark.parametrize("moment", [LATE, EARLY])
async def test_a_time_without_a_utc_equivalent_is_422(
    analytics: httpx.AsyncClient, path: str, param: str, moment: str
) -> None:
    _assert_refused(await analytics.get(path, params={param: moment}), "query", param)


async def test_a_naive_time_is_read_as_utc(analytics: httpx.AsyncClient) -> None:
    feedback = {"model_name": "guard", "model_version": "1", "prediction": "1", "true_label": "1", "text": "kept"}
    feedback["predicted_at"] = "2026-01-01T12:00:00"
    assert (await analytics.post("/feedback", json={"items": [feedback]})).status_code == 201
    path = "/export/production-data/guard"
    since = {"format": "jsonl", "part": "all", "since": "2026-01-01T12:00:00"}
    assert (await analytics.get(path, params=since)).headers["x-export-rows"] == "1"
    assert (await analytics.get(path, params={**since, "since": "2026-01-01T13:00:00+01:00"})).status_code == 200
    assert (await analytics.get(path, params={**since, "since": "2026-01-01T12:00:01+00:00"})).status_code == 404
    assert (await analytics.get(path, params={**since, "since": "0001-01-01T00:00:00"})).status_code == 200


@pytest.mark.parametrize("moment", [LATE, EARLY])
async def test_a_feedback_time_without_a_utc_equivalent_is_422(analytics: httpx.AsyncClient, moment: str) -> None:
    item = {"model_name": "guard", "model_version": "1", "prediction": "1", "true_label": "1", "predicted_at": moment}
    _assert_refused(await analytics.post("/feedback", json={"items": [item]}), "body", "items", "0", "predicted_at")


async def test_a_number_is_not_a_time(analytics: httpx.AsyncClient) -> None:
    """The documented type is an ISO 8601 string: pydantic alone would read 0 as 1970 and 2026 as 1970-01-01T00:33."""
    item = {"model_name": "guard", "model_version": "1", "prediction": "1", "true_label": "1", "predicted_at": 0}
    _assert_refused(await analytics.post("/feedback", json={"items": [item]}), "body", "items", "0", "predicted_at")
    _assert_refused(await analytics.get("/export/production-data/guard", params={"since": "2026"}), "query", "since")


@pytest.mark.parametrize("attempts", [MAX_INT32 + 1, 2**63])
async def test_a_red_team_count_past_its_integer_column_is_422(analytics: httpx.AsyncClient, attempts: int) -> None:
    technique = {"technique": "leet", "attempts": attempts, "detected": attempts, "detection_rate": 1.0}
    report = {"attempts": attempts, "detected": attempts, "detection_rate": 1.0}
    body = {
        "model_name": "guard",
        "model_version": "1",
        "report": {**report, "techniques": [{**technique, "evaded_total": 0}]},
    }
    _assert_refused(await analytics.post("/red-team/results", json=body), "body", "report", "attempts")


async def test_the_bounds_are_in_the_openapi_document(analytics: httpx.AsyncClient) -> None:
    paths = (await analytics.get("/openapi.json")).json()["paths"]

    def schema(path: str, name: str, method: str = "get") -> dict[str, Any]:
        found = [p["schema"] for p in paths[path][method]["parameters"] if p["name"] == name]
        return dict(found[0])

    assert {"type": "integer", "minimum": 0, "maximum": MAX_INT64}.items() <= schema("/drift/history", "offset").items()
    bounds = {"minimum": 1, "maximum": MAX_INT32}.items()
    assert bounds <= schema("/red-team/runs/{run_id}", "run_id").items()
    assert bounds <= schema("/drift/alerts/{alert_id}/acknowledge", "alert_id", "post").items()
    since = schema("/export/production-data/{model_name}", "since")
    assert {"type": "string", "format": "date-time"} in since["anyOf"]
