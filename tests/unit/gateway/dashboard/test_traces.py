"""The traces page through HTTP: the search form (service, operation, tags, status, the trace's duration, time
range, sort, limit) and the parts the script fills (results, waterfall, slowest predictions, service map, RED
charts) for every role; `?trace=<id>` handed to the script only when it is a trace id; the newest predictions of
the serving services' logs with a link to each one's trace; an alert carrying a `trace_id` linking to it; the
parts saying "unavailable" when the serving services are down.

A unit test of the page's loader and templates: where it needs the serving services to answer, the SDK's method
is replaced by a double built from their own schemas (the tracing service's answers, drawn by the page's script,
are the browser test's part: tests/browser/test_traces_page.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mlsec.client.main import MainAPIClient
from mlsec.core.auth import Role
from mlsec.services.analytics.schemas.drift import DriftAlertList
from mlsec.services.gateway.service.dashboard import PAGES, traces
from mlsec.services.gateway.service.dashboard.monitoring import DEFAULT_MODEL
from mlsec.serving.http_schemas import PredictionLogPage
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "00f067aa0ba902b700f067aa0ba902b7"


def _record(record_id: int, minutes: int, trace_id: str | None) -> dict[str, Any]:
    return {
        "id": record_id,
        "created_at": NOW - timedelta(minutes=minutes),
        "model_name": DEFAULT_MODEL,
        "model_version": "3",
        "label": "injection",
        "score": 0.97,
        "latency_ms": 4.25,
        "features": {"length": 42},
        "source": "api",
        "traffic_class": "production",
        "trace_id": trace_id,
    }


def _log(*records: dict[str, Any]) -> dict[str, Any]:
    page = PredictionLogPage.model_validate({"records": list(records), "count": len(records), "next_after_id": None})
    return page.model_dump(mode="json")


def _answering(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The model cache and the model API answer with their logs; the arguments each was asked with."""
    sdk: MainAPIClient = gateway.app.state.sdk
    asked: list[dict[str, Any]] = []

    def log(answer: dict[str, Any]) -> Any:
        async def get_prediction_log(model_name: str, **params: Any) -> dict[str, Any]:
            asked.append({"model_name": model_name, **params})
            return answer

        return get_prediction_log

    monkeypatch.setattr(sdk.model_cache, "get_prediction_log", log(_log(_record(9, 1, TRACE), _record(8, 5, None))))
    monkeypatch.setattr(sdk.model_api, "get_prediction_log", log(_log(_record(2, 3, OTHER.upper()))))
    return asked


async def test_a_viewer_gets_the_search_form_and_every_part_the_script_fills(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = await gateway.http.get("/ui/traces")
    assert page.status_code == 200
    text = page.text
    assert '<main id="content" data-page="traces"' in text and "<title>Traces" in text
    assert 'data-page="traces" href="/ui/traces"' in text  # in the navigation, for a viewer too
    assert 'src="/static/pages/traces.js"' in text and 'src="/static/pages/traces-graphs.js"' in text
    for name in ("service", "operation", "tags", "status", "min_duration_ms", "max_duration_ms", "range", "sort"):
        assert f'name="{name}"' in text, name
    assert 'name="limit" type="number" min="1" max="1000" step="1" value="20"' in text
    sorts = re.findall(r'<option value="(\w+)">', text.split('id="search-sort"', 1)[1].split("</select>", 1)[0])
    assert sorts == ["start", "duration"]
    ranges = text.split('id="search-range"', 1)[1].split("</select>", 1)[0]
    assert '<option value="1h" selected>last hour</option>' in ranges and '<option value="custom">' in ranges
    for element in ("trace-results", "slowest-results", "waterfall", "span-detail", "service-map", "red-table"):
        assert f'id="{element}"' in text, element
    for chart in ("red-latency", "red-rate", "red-errors", "red-per-minute", "red-p95"):
        assert f'id="{chart}" class="chart"' in text, chart
    assert 'data-trace-id=""' in text  # no trace asked for
    assert "write-control" not in text and "<script>" not in text.split("<main", 1)[1]


async def test_the_pages_scripts_are_served_and_build_no_html_from_data(gateway: Gateway) -> None:
    for name in ("traces.js", "traces-graphs.js"):
        script = await gateway.http.get(f"/static/pages/{name}")
        assert script.status_code == 200, name
        assert ".innerHTML" not in script.text and "insertAdjacentHTML" not in script.text, name
        assert "/api/tracing/" in script.text or 'API = "/api/tracing"' in script.text, name


@pytest.mark.parametrize(
    ("asked", "opened"),
    [
        (TRACE, TRACE),
        (TRACE.upper(), TRACE),
        (f" {TRACE} ", TRACE),
        (TRACE[:-1], ""),
        (TRACE + "0", ""),
        ('"><script>alert(1)</script>', ""),
        ("zz" * 16, ""),
    ],
)
async def test_a_link_opens_its_trace_and_nothing_else_reaches_the_page(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, asked: str, opened: str
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    _answering(gateway, monkeypatch)
    page = await gateway.http.get("/ui/traces", params={"trace": asked})
    assert page.status_code == 200
    assert f'<div class="grid" id="traces-page" data-trace-id="{opened}">' in page.text
    assert "<script>alert" not in page.text


def test_trace_link_is_the_pages_address_for_an_id_and_none_otherwise() -> None:
    assert traces.trace_link(TRACE) == f"/ui/traces?trace={TRACE}"
    assert traces.trace_link(OTHER.upper()) == f"/ui/traces?trace={OTHER}"
    for value in (None, "", 42, TRACE[:31], "g" * 32, f"{TRACE}&x=1"):
        assert traces.trace_link(value) is None, value


async def test_the_newest_predictions_of_both_logs_link_to_their_traces(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    asked = _answering(gateway, monkeypatch)
    part = await gateway.http.get("/ui/traces/partials/predictions")
    assert part.status_code == 200
    rows = re.findall(r'<tr data-trace-id="([^"]*)">\s*<td>[^<]*</td>\s*<td>([^<]+)</td>', part.text)
    assert rows == [(TRACE, "model-cache"), (OTHER.upper(), "model-api"), ("", "model-cache")]  # newest first
    assert (
        f'<a class="trace-link" data-trace-id="{TRACE}" href="/ui/traces?trace={TRACE}">{TRACE[:12]}</a>' in part.text
    )
    assert f'href="/ui/traces?trace={OTHER}"' in part.text  # an upper-case id from a log, linked lower-case
    assert part.text.count("not traced") == 1
    assert "4.25 ms" in part.text
    assert all(a["model_name"] == DEFAULT_MODEL and a["newest_first"] is True for a in asked), asked
    assert all(a["limit"] == traces.PREDICTIONS_SHOWN for a in asked), asked


async def test_with_the_serving_services_down_the_predictions_part_says_so(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    page = await gateway.http.get("/ui/traces")
    assert page.status_code == 200
    assert "Prediction logs unavailable: model-cache:" in page.text and "model-api:" in page.text
    assert 'id="trace-search"' in page.text  # the search still works: the tracing service may answer


def test_the_page_is_in_the_navigation_after_monitoring() -> None:
    names = list(PAGES)
    assert names.index("traces") == names.index("monitoring") + 1
    assert PAGES["traces"].need == Role.VIEWER and PAGES["traces"].partials.keys() == {"predictions"}


async def test_an_alert_with_a_trace_id_links_to_its_trace(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    sdk: MainAPIClient = gateway.app.state.sdk
    alert = {
        "id": 7,
        "created_at": NOW,
        "model_name": DEFAULT_MODEL,
        "model_version": "2",
        "kind": "data_drift",
        "severity": "high",
        "message": "drifted on 2 of 3 features",
        "drift_run_id": 2,
        "features": ["length"],
        "status": "open",
        "acknowledged_at": None,
        "acknowledged_by": None,
        "note": None,
        "notifications": {},
    }
    listed = DriftAlertList.model_validate({"alerts": [alert], "total": 2, "open": 2, "limit": 50, "offset": 0})
    answer = listed.model_dump(mode="json")
    plain = dict(answer["alerts"][0])
    answer["alerts"] = [{**plain, "trace_id": TRACE}, {**plain, "id": 8, "trace_id": "not-an-id"}]

    async def alerts(**_: Any) -> dict[str, Any]:
        return answer

    monkeypatch.setattr(sdk.analytics, "get_drift_alerts", alerts)
    link = f'<a class="trace-link small" href="/ui/traces?trace={TRACE}">trace</a>'
    for path in ("/ui/monitoring/partials/alerts", "/ui/overview/partials/alerts"):
        text = (await gateway.http.get(path)).text
        assert text.count(link) == 1, path  # the alert without a valid id gets no link
        assert "not-an-id" not in text, path
