"""The Traces page as a person uses it, in a real chromium against the session's real platform: one prediction
through the gateway becomes one trace that a search lists, whose waterfall holds the gateway's span at its root
and the serving service's spans under it (a span's attributes on a click, the OTLP JSON export linked), whose
address opens it again (`/ui/traces?trace=<id>`), and the service map draws the edge from the gateway to the
service that served it; a viewer reads it all at a phone's width without a sideways scroll. Screenshots:
docs/images/traces.png (the waterfall) and docs/images/traces-map.png (the service map and the RED figures).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import ATTACK, IMAGES, Pages, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
PHONE: ViewportSize = {"width": 390, "height": 844}
SERVING = ("model-cache", "model-api")
WITHIN_S = 90.0  # the services export in batches, a second or two apart


def _prediction_trace(api: httpx.Client, since: datetime) -> dict[str, Any]:
    """The trace of the prediction made after `since`: the gateway's `POST /predict` at its root, a serving
    service's `mlsec.predict` in it (the gateway's own calls to the serving services, such as its live polling,
    are traces of their own)."""
    deadline = time.monotonic() + WITHIN_S
    seen: list[Any] = []
    while time.monotonic() < deadline:
        params = {"operation": "mlsec.predict", "start": since.isoformat(), "sort": "start"}
        answer = api.get("/api/tracing/search/traces", params=params)
        assert answer.status_code == 200, answer.text
        seen = answer.json()["traces"]
        for trace in seen:
            if (trace["root_service"], trace["root_operation"]) == ("gateway", "POST /predict"):
                return dict(trace)
        time.sleep(1)
    raise AssertionError(f"no trace of the prediction reached the tracing service in {WITHIN_S} s: {seen}")


def _shot(page: Page, name: str) -> Path:
    path = IMAGES / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path


def test_a_prediction_through_the_gateway_is_a_trace_with_its_waterfall_and_map_edge(
    pages: Pages, admin_key: str, api: httpx.Client
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=2)
    predicted = api.post("/predict", json={"text": f"{ATTACK} (traces page {uuid.uuid4().hex[:8]})"})
    assert predicted.status_code == 200, predicted.text
    trace = _prediction_trace(api, since)
    trace_id = str(trace["trace_id"])
    served_by = next(service for service in SERVING if service in trace["services"])

    page = pages.page()
    sign_in(page, api_key=admin_key)
    page.goto("/ui/traces")
    expect(page.locator('main[data-page="traces"]')).to_be_visible()
    expect(page.locator(f'#search-service option[value="{served_by}"]')).to_have_count(1, timeout=15_000)
    page.select_option("#search-service", served_by)
    page.select_option("#search-range", "15m")
    page.click("#search-submit")
    row = page.locator(f'#trace-results tr[data-trace-id="{trace_id}"]')
    expect(row).to_be_visible(timeout=15_000)
    expect(row.locator(".trace-services")).to_contain_text("gateway")

    row.locator(".trace-link").click()
    waterfall = page.locator("#waterfall")
    expect(waterfall).to_have_attribute("data-trace-id", trace_id, timeout=15_000)
    spans = waterfall.locator(".span-row")
    expect(spans.first).to_have_attribute("data-service", "gateway")
    expect(spans.first).to_have_attribute("data-depth", "0")
    services = set(spans.evaluate_all("rows => rows.map((row) => row.dataset.service)"))
    assert {"gateway", served_by} <= services, services
    depths = spans.evaluate_all("rows => rows.map((row) => Number(row.dataset.depth))")
    assert depths[0] == 0 and all(depth >= 1 for depth in depths[1:]), depths
    assert httpx.URL(page.url).params.get("trace") == trace_id  # the address opens it again

    serving_span = waterfall.locator(f'.span-row[data-service="{served_by}"]').last
    serving_span.locator(".span-label").click()
    expect(page.locator("#span-detail")).to_be_visible()
    expect(page.locator("#span-title")).to_contain_text(served_by)
    expect(page.locator("#span-resource")).to_contain_text(served_by)
    export = page.get_attribute("#trace-export", "href")
    assert export == f"/api/tracing/traces/{trace_id}/export"
    exported = api.get(export)
    assert exported.status_code == 200
    ids = {span["traceId"] for r in exported.json()["resourceSpans"] for s in r["scopeSpans"] for span in s["spans"]}
    assert ids == {trace_id}
    page.locator("#waterfall-card").scroll_into_view_if_needed()
    _shot(page, "traces")

    edge = page.locator(f'#service-map g.map-edge[data-source="gateway"][data-target="{served_by}"]')
    expect(edge).to_have_count(1, timeout=30_000)
    expect(edge.locator("text")).to_contain_text("calls")
    expect(page.locator(f'#red-table tr[data-service="{served_by}"]')).to_be_visible()
    page.locator("#map-title").evaluate("(title) => title.scrollIntoView({ block: 'start' })")
    _shot(page, "traces-map")

    linked = pages.page(page.context)
    linked.goto(f"/ui/traces?trace={trace_id}")
    expect(linked.locator("#waterfall")).to_have_attribute("data-trace-id", trace_id, timeout=15_000)
    expect(linked.locator("#waterfall .span-row").first).to_have_attribute("data-service", "gateway")


def test_logged_and_slowest_predictions_link_to_their_waterfalls(
    pages: Pages, admin_key: str, api: httpx.Client
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=2)
    predicted = api.post("/predict", json={"text": f"{ATTACK} (slowest {uuid.uuid4().hex[:8]})"})
    assert predicted.status_code == 200, predicted.text
    trace_id = str(_prediction_trace(api, since)["trace_id"])
    page = pages.page()
    sign_in(page, api_key=admin_key)
    page.goto("/ui/traces")

    # The prediction log keeps each prediction's trace: the newest predictions link to theirs, opened in place.
    logged = page.locator(f'#recent-predictions tr[data-trace-id="{trace_id}"] a.trace-link')
    expect(logged).to_have_attribute("href", f"/ui/traces?trace={trace_id}", timeout=30_000)
    logged.click()
    expect(page.locator("#waterfall")).to_have_attribute("data-trace-id", trace_id, timeout=15_000)
    assert httpx.URL(page.url).path == "/ui/traces"

    first = page.locator("#slowest-results tr[data-trace-id]").first
    expect(first).to_be_visible(timeout=15_000)
    slowest = first.get_attribute("data-trace-id")
    durations = page.locator("#slowest-results td.trace-duration").evaluate_all(
        "cells => cells.map((cell) => Number(cell.dataset.ms))"
    )
    assert durations == sorted(durations, reverse=True), durations  # longest first
    first.locator(".trace-link").click()
    expect(page.locator("#waterfall")).to_have_attribute("data-trace-id", str(slowest), timeout=15_000)
    expect(page.locator("#waterfall .span-row").first).to_be_visible()


def test_a_viewer_reads_the_page_at_a_phones_width(pages: Pages, api: httpx.Client) -> None:
    username, password = f"traces-viewer-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    created = api.post("/auth/users", json={"username": username, "password": password, "role": "viewer"})
    assert created.status_code in (200, 201), created.text
    page = pages.page(pages.context(viewport=PHONE))
    sign_in(page, username=username, password=password)
    page.goto("/ui/traces")
    expect(page.locator("body")).to_have_attribute("data-role", "viewer")
    expect(page.locator("#trace-results tr[data-trace-id]").first).to_be_visible(timeout=15_000)  # a viewer's read
    expect(page.locator("#service-map svg g.map-node").first).to_be_visible(timeout=15_000)
    expect(page.locator("#red-table tr[data-service]").first).to_be_visible()
    page.locator("#trace-results .trace-link").first.click()
    expect(page.locator("#waterfall .span-row").first).to_be_visible(timeout=15_000)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the traces page scrolls sideways by {overflow} px at 390 px"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map((el) => el.id || el.name)"""
    )
    assert unlabelled == [], unlabelled
    assert page.locator(".write-control, .admin-control").count() == 0
