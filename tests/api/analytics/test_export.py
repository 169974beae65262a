"""`/export/production-data/{model}`: labelled production data as CSV or JSON Lines, safe to open."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mlsec.ml.datasets import inspect_dataset
from mlsec.services.analytics.service.feedback_data import is_holdout
from tests.api.analytics.feedback_support import at, item, send

pytestmark = pytest.mark.anyio


# --- GET /export/production-data/{model} -------------------------------------------------------------------------

AWKWARD_TEXTS = [
    "plain",
    "comma, inside",
    'a "quoted" word',
    "line one\nline two\r\nline three",
    "ünïcödé — ok",
    '",\n,"',
]


async def _awkward_feedback(client: httpx.AsyncClient) -> None:
    items = [item(text=t, true_label=str(i % 2), prediction="1") for i, t in enumerate(AWKWARD_TEXTS)]
    items += [item(), item(model_version="2", text=None), item(model_name="other", text="not this model")]
    await send(client, items)


async def test_csv_export_round_trips_awkward_texts(analytics: httpx.AsyncClient, tmp_path: Path) -> None:
    await _awkward_feedback(analytics)
    response = await analytics.get("/export/production-data/guard", params={"part": "all"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert response.headers["content-disposition"] == f"attachment; filename=guard-production-{today}.csv"

    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert [r["text"] for r in rows] == AWKWARD_TEXTS
    assert [r["label"] for r in rows] == [str(i % 2) for i in range(len(AWKWARD_TEXTS))]
    assert {r["model_version"] for r in rows} == {"1"}
    assert all(datetime.fromisoformat(r["created_at"]).tzinfo is not None for r in rows)

    path = tmp_path / "export.csv"
    path.write_bytes(response.content)
    summary = inspect_dataset(path, fmt="csv")  # what a training upload runs on the file
    assert summary.rows == len(AWKWARD_TEXTS)


FORMULA_TEXTS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1"]


async def test_csv_export_cells_never_run_as_formulas(analytics: httpx.AsyncClient) -> None:
    """OWASP CSV injection: a text a spreadsheet would run gets a leading quote; labels that are numbers stay."""
    await send(analytics, [item(text=t, true_label="-1", prediction="-1") for t in [*FORMULA_TEXTS, "-0.5", "ok"]])
    response = await analytics.get("/export/production-data/guard", params={"part": "all"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert [r["text"] for r in rows] == [*("'" + t for t in FORMULA_TEXTS), "-0.5", "ok"]
    assert {r["label"] for r in rows} == {"-1"}
    exact = await analytics.get("/export/production-data/guard", params={"part": "all", "format": "jsonl"})
    assert [json.loads(line)["text"] for line in exact.text.splitlines()] == [*FORMULA_TEXTS, "-0.5", "ok"]


async def test_jsonl_export_round_trips(analytics: httpx.AsyncClient, tmp_path: Path) -> None:
    await _awkward_feedback(analytics)
    response = await analytics.get("/export/production-data/guard", params={"format": "jsonl", "part": "all"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith(".jsonl")
    rows = [json.loads(line) for line in response.content.decode().splitlines()]
    assert [r["text"] for r in rows] == AWKWARD_TEXTS
    assert set(rows[0]) == {"text", "label", "model_version", "created_at"}
    path = tmp_path / "export.jsonl"
    path.write_bytes(response.content)
    assert inspect_dataset(path, fmt="jsonl").rows == len(AWKWARD_TEXTS)


async def test_export_streams_many_pages_in_order(analytics: httpx.AsyncClient) -> None:
    await send(analytics, [item(text=f"text {i}", true_label=str(i % 2)) for i in range(2_500)])
    params = {"format": "jsonl", "part": "all"}
    async with analytics.stream("GET", "/export/production-data/guard", params=params) as response:
        assert response.headers["x-export-rows"] == "2500"
        chunks = [chunk async for chunk in response.aiter_raw()]
    rows = [json.loads(line) for line in b"".join(chunks).decode().splitlines()]
    assert [r["text"] for r in rows] == [f"text {i}" for i in range(2_500)]


async def test_export_since_and_until_follow_the_time_basis(analytics: httpx.AsyncClient) -> None:
    await send(
        analytics,
        [item(text="old", predicted_at=at(48)), item(text="middle", predicted_at=at(24)), item(text="new")],
    )
    params = {"format": "jsonl", "since": at(30), "until": at(1), "part": "all"}
    response = await analytics.get("/export/production-data/guard", params=params)
    assert [json.loads(line)["text"] for line in response.text.splitlines()] == ["middle"]


async def test_export_leaves_out_the_held_out_feedback_unless_asked(analytics: httpx.AsyncClient) -> None:
    """Promotions are judged on the held-out part: a dataset exported for retraining must not contain it."""
    texts = [f"feedback text {i}" for i in range(200)]
    await send(analytics, [item(text=t) for t in texts])
    held = {t for t in texts if is_holdout(t)}
    assert 30 < len(held) < 100  # about 30%

    def exported(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        assert response.headers["x-export-rows"] == str(len(response.text.splitlines()))
        return {json.loads(line)["text"] for line in response.text.splitlines()}

    path, jsonl = "/export/production-data/guard", {"format": "jsonl"}
    assert exported(await analytics.get(path, params=jsonl)) == set(texts) - held
    assert exported(await analytics.get(path, params={**jsonl, "part": "training"})) == set(texts) - held
    assert exported(await analytics.get(path, params={**jsonl, "part": "holdout"})) == held
    assert exported(await analytics.get(path, params={**jsonl, "part": "all"})) == set(texts)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/export/production-data/unknown", {}, 404),
        ("/export/production-data/notext", {}, 404),
        ("/export/production-data/guard", {"since": at(-1)}, 404),
        ("/export/production-data/guard", {"format": "xlsx"}, 422),
        ("/export/production-data/guard", {"part": "everything"}, 422),
        ("/export/production-data/guard", {"since": "not a date"}, 422),
        ("/export/production-data/guard", {"since": at(1), "until": at(2)}, 422),
        ("/export/production-data/bad name", {}, 422),
    ],
)
async def test_export_errors(analytics: httpx.AsyncClient, path: str, params: dict[str, str], status: int) -> None:
    await send(analytics, [item(text="something"), item(model_name="notext")])
    response = await analytics.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"] is True
