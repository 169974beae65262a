"""Tracing on the session's platform (conftest.py): every service exports its spans to the tracing service.

One prediction through the gateway, sent with the caller's own W3C `traceparent`, is one trace in the tracing
service holding the gateway's request span and the serving service's spans, the prediction span naming the model
and its version; the service map shows the edge gateway -> model cache. Then the tracing service is stopped
(SIGSTOP) under prediction traffic: every prediction still succeeds, the services count the spans they drop, and
once it runs again (SIGCONT) their spans arrive again.

Runs after test_up_privacy.py and before test_up_stop.py (path order)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mlsec.core.auth import read_credentials
from tests.platform_support import Platform, platform_client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
T = TypeVar("T")
BENIGN = "What is the weather like in Lisbon today?"
DROPPED = "mlsec_trace_spans_dropped"
SERVING = ("model-cache", "model-api")


def _until(read: Callable[[], T], within: float, every: float = 0.5) -> T:
    deadline = time.monotonic() + within
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


def _traceparent() -> tuple[str, str]:
    """A new trace id and the `traceparent` header that makes the gateway's span a child in that trace."""
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


@pytest.fixture(scope="module")
def gateway(shared_platform: Platform) -> Iterator[httpx.Client]:
    """The gateway with the admin key, once the default model is served (a fresh home trains it first)."""
    client = httpx.Client(base_url=shared_platform.url("gateway"), timeout=30)
    client.headers["Authorization"] = f"Bearer {read_credentials(shared_platform.home / 'credentials')}"
    with client:
        ready = _until(lambda: client.post("/predict", json={"text": BENIGN}).status_code == 200, 300, every=1)
        assert ready, shared_platform.tail()
        yield client


def _predict(gateway: httpx.Client) -> tuple[str, dict[str, Any]]:
    trace_id, header = _traceparent()
    answer = gateway.post("/predict", json={"text": BENIGN}, headers={"traceparent": header})
    assert answer.status_code == 200, answer.text
    return trace_id, dict(answer.json())


def _trace(gateway: httpx.Client, trace_id: str, services: set[str]) -> dict[str, Any] | None:
    """The trace once spans of every one of `services` are stored (they arrive in batches, service by service)."""
    answer = gateway.get(f"/api/tracing/traces/{trace_id}")
    if answer.status_code != 200:
        return None
    body = dict(answer.json())
    return body if services <= {span["service"] for span in body["spans"]} else None


def _dropped(shared_platform: Platform) -> float:
    """Spans the gateway and the serving services dropped so far (their Prometheus counters)."""
    total = 0.0
    with platform_client(shared_platform.env) as http:
        for service in ("gateway", *SERVING):
            text = http.get(f"{shared_platform.url(service)}/metrics", headers={"Accept": "text/plain"}).text
            for family in text_string_to_metric_families(text):
                if family.name == DROPPED:
                    total += sum(sample.value for sample in family.samples if sample.name.endswith("_total"))
    return total


def test_one_prediction_through_the_gateway_is_one_trace_with_the_model_version(gateway: httpx.Client) -> None:
    trace_id, prediction = _predict(gateway)
    served_by = prediction["served_by"]
    assert served_by in SERVING

    trace = _until(lambda: _trace(gateway, trace_id, {"gateway", served_by}), 30)
    assert trace, gateway.get(f"/api/tracing/traces/{trace_id}").text
    assert trace["trace"]["trace_id"] == trace_id
    spans = trace["spans"]
    by_id = {span["span_id"]: span for span in spans}
    gateway_spans = [span for span in spans if span["service"] == "gateway" and span["kind"] == "server"]
    assert gateway_spans, spans
    # The serving service's request span is a child of the gateway's: one trace, joined by W3C trace context.
    served = [span for span in spans if span["service"] == served_by and span["kind"] == "server"]
    assert served and all(by_id.get(span["parent_span_id"], {}).get("service") == "gateway" for span in served)

    predict = [span for span in spans if span["operation"] == "mlsec.predict"]
    assert len(predict) == 1, [span["operation"] for span in spans]
    attributes = predict[0]["attributes"]
    assert attributes["mlsec.model.name"] == prediction["model_name"]
    assert str(attributes["mlsec.model.version"]) == str(prediction["model_version"])
    assert attributes["mlsec.traffic_class"] == "production"
    assert attributes["mlsec.batch_size"] == 1
    assert str(attributes["mlsec.prediction.label"]) == str(prediction["label"])
    # No span carries the text that was classified.
    assert all(BENIGN not in str(span["attributes"]) for span in spans)


def test_the_service_map_shows_the_gateway_calling_the_model_cache(gateway: httpx.Client) -> None:
    def edge() -> dict[str, Any] | None:
        edges = gateway.get("/api/tracing/service-map", params={"window_minutes": 60}).json()["edges"]
        return next((e for e in edges if e["source"] == "gateway" and e["target"] == "model-cache"), None)

    found = _until(edge, 30)
    assert found, gateway.get("/api/tracing/service-map").text
    assert found["calls"] >= 1 and found["avg_ms"] > 0


def test_predictions_go_on_while_the_tracing_service_is_stopped(
    shared_platform: Platform, gateway: httpx.Client
) -> None:
    dropped_before = _dropped(shared_platform)
    pid = int(shared_platform.processes()["tracing"]["pid"])
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 12:  # long enough for several export rounds to fail
            _, header = _traceparent()
            answer = gateway.post("/predict", json={"text": BENIGN}, headers={"traceparent": header}, timeout=10)
            statuses.append(answer.status_code)
            time.sleep(0.05)
        assert statuses and set(statuses) == {200}, statuses
        assert _until(lambda: _dropped(shared_platform) > dropped_before, 30), "no service counted a dropped span"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)

    # Export resumes by itself: a new prediction's spans are stored again.
    def resumed() -> bool:
        trace_id, prediction = _predict(gateway)
        return _until(lambda: _trace(gateway, trace_id, {"gateway", prediction["served_by"]}), 10) is not None

    assert _until(resumed, 90, every=1), shared_platform.tail()
