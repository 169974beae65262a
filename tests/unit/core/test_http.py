"""The resilient transport: retries for idempotent calls only, Retry-After, circuit breaking, propagation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.requests import ClientDisconnect

from mlsec.core.errors import PayloadTooLargeError
from mlsec.core.http import (
    PROBE_EXTENSIONS,
    BreakerRegistry,
    CircuitOpenError,
    ResilientTransport,
    parse_retry_after,
    send,
    timeout_for,
)
from mlsec.core.logging import reset_request_id, set_request_id
from mlsec.core.settings import Settings

pytestmark = pytest.mark.anyio
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records every call."""

    def __init__(self, *answers: httpx.Response | Exception):
        self.answers = list(answers)
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(
    handler: Handler,
    *,
    retries: int = 3,
    fail_max: int = 5,
    reset_timeout: float = 30.0,
    breakers: BreakerRegistry | None = None,
) -> httpx.AsyncClient:
    transport = ResilientTransport(
        httpx.MockTransport(handler),
        breakers=breakers or BreakerRegistry(fail_max=fail_max, reset_timeout=reset_timeout),
        retries=retries,
        backoff_initial=0.001,
        backoff_max=0.01,
        retry_after_max=1.0,
    )
    return httpx.AsyncClient(transport=transport, base_url="http://svc:8000")


async def test_get_is_retried_until_it_succeeds() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": True}))
    async with client(handler) as http:
        response = await http.get("/models")
    assert response.status_code == 200
    assert len(handler.calls) == 3


async def test_post_is_never_retried() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(200))
    async with client(handler) as http:
        response = await http.post("/training/train", json={})
    assert response.status_code == 503
    assert len(handler.calls) == 1


async def test_connection_errors_retry_idempotent_calls_only() -> None:
    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(200))
    async with client(handler) as http:
        assert (await http.get("/x")).status_code == 200
    assert len(handler.calls) == 2

    failing = Recorder(httpx.ConnectError("refused"))
    async with client(failing) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post("/x")
    assert len(failing.calls) == 1


async def test_exhausted_retries_return_the_last_answer() -> None:
    handler = Recorder(httpx.Response(429, headers={"retry-after": "0"}))
    async with client(handler, retries=2) as http:
        response = await http.get("/x")
    assert response.status_code == 429
    assert len(handler.calls) == 3


async def test_client_errors_are_not_retried() -> None:
    handler = Recorder(httpx.Response(404))
    async with client(handler) as http:
        assert (await http.get("/x")).status_code == 404
    assert len(handler.calls) == 1


async def test_retry_after_is_honoured() -> None:
    handler = Recorder(httpx.Response(503, headers={"retry-after": "0.3"}), httpx.Response(200))
    async with client(handler) as http:
        started = time.monotonic()
        await http.get("/x")
    assert time.monotonic() - started >= 0.3


def test_retry_after_is_capped_and_parsed_safely() -> None:
    assert parse_retry_after("120", cap=10) == 10
    assert parse_retry_after("2.5", cap=10) == 2.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", cap=10) is None
    assert parse_retry_after(None, cap=10) is None


async def test_breaker_opens_then_half_opens_then_closes() -> None:
    breakers = BreakerRegistry(fail_max=2, reset_timeout=0.2)
    handler = Recorder(httpx.Response(500))
    async with client(handler, retries=0, breakers=breakers) as http:
        for _ in range(2):
            assert (await http.get("/x")).status_code == 500
        assert breakers.states() == {"svc:8000": "open"}
        with pytest.raises(CircuitOpenError):
            await http.get("/x")
        assert len(handler.calls) == 2  # the open circuit did not call the target

        await asyncio.sleep(0.25)
        handler.answers = [httpx.Response(200)]
        assert (await http.get("/x")).status_code == 200  # the half-open trial succeeds
        assert breakers.states() == {"svc:8000": "closed"}


async def test_one_breaker_per_target_host() -> None:
    breakers = BreakerRegistry(fail_max=1, reset_timeout=30)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500 if request.url.host == "down" else 200)

    async with client(handler, retries=0, breakers=breakers) as http:
        await http.get("http://down:1/x")
        with pytest.raises(CircuitOpenError):
            await http.get("http://down:1/x")
        assert (await http.get("http://up:1/x")).status_code == 200
    assert breakers.states() == {"down:1": "open", "up:1": "closed"}


async def test_client_errors_do_not_trip_the_breaker() -> None:
    breakers = BreakerRegistry(fail_max=1, reset_timeout=30)
    async with client(Recorder(httpx.Response(422)), breakers=breakers) as http:
        for _ in range(3):
            assert (await http.get("/x")).status_code == 422
    assert breakers.states()["svc:8000"] == "closed"


@pytest.mark.parametrize("cause", [PayloadTooLargeError("request body exceeds the limit"), ClientDisconnect()])
async def test_a_failure_of_the_callers_own_body_neither_trips_the_breaker_nor_retries(cause: Exception) -> None:
    """A relayed upload that passes the body limit (or whose caller leaves) fails while it is sent: not the
    target's fault, so a caller cannot open a service's circuit for everyone with oversized uploads."""
    failed = httpx.WriteError("failed to send the body")
    failed.__cause__ = cause
    handler = Recorder(failed)
    breakers = BreakerRegistry(fail_max=2, reset_timeout=30)
    async with client(handler, breakers=breakers) as http:
        for _ in range(4):
            with pytest.raises(httpx.WriteError):
                await http.put("/upload", content=b"x")
    assert len(handler.calls) == 4  # a PUT is retried on network errors, but not when its own body failed
    assert breakers.states()["svc:8000"] == "closed"


async def test_probes_bypass_the_breaker_and_retries() -> None:
    breakers = BreakerRegistry(fail_max=1, reset_timeout=30)
    handler = Recorder(httpx.Response(500), httpx.Response(500), httpx.Response(200))
    async with client(handler, breakers=breakers) as http:
        assert (await http.get("/x", extensions={"mlsec_retries": 0})).status_code == 500
        assert breakers.states()["svc:8000"] == "open"
        # The target recovered: a probe sees it at once although the breaker is still open.
        assert (await http.get("/health", extensions=PROBE_EXTENSIONS)).status_code == 500
        assert (await http.get("/health", extensions=PROBE_EXTENSIONS)).status_code == 200


async def test_request_id_and_trace_context_are_propagated() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    handler = Recorder(httpx.Response(200))
    tracer = TracerProvider().get_tracer("test")
    token = set_request_id("req-42")
    try:
        with tracer.start_as_current_span("caller"):
            async with client(handler) as http:
                await http.get("/x")
    finally:
        reset_request_id(token)
    sent = handler.calls[0].headers
    assert sent["x-request-id"] == "req-42"
    assert sent["traceparent"].startswith("00-")


def test_timeouts_per_operation_class(settings: Settings) -> None:
    assert timeout_for(settings).read == 30
    assert timeout_for(settings, "training").read == 300
    assert timeout_for(settings, "prediction").read == 10
    assert timeout_for(settings, "prediction").connect == 5


async def test_send_goes_through_the_resilient_transport_with_the_clients_headers() -> None:
    """`send` (the gateway's relay) skips httpx's client layer, not the resilience or the client's headers."""
    handler = Recorder(httpx.Response(503), httpx.Response(200, json={"ok": True}))
    async with client(handler) as http:
        http.headers["x-mlsec-service-token"] = "secret"
        http.headers["accept"] = "*/*"
        response = await send(
            http,
            "GET",
            "http://svc:8000/models/a%2Fb",
            timeout=httpx.Timeout(2.0, connect=1.0),
            params=[("limit", "5")],
            headers={"accept": "application/json"},
        )
    assert response.status_code == 200 and response.json() == {"ok": True}  # the 503 was retried
    assert len(handler.calls) == 2
    sent = handler.calls[-1]
    assert sent.url.raw_path == b"/models/a%2Fb?limit=5"
    assert sent.headers["x-mlsec-service-token"] == "secret"
    assert sent.headers["accept"] == "application/json"  # the call's own header wins
    assert sent.extensions["timeout"] == {"connect": 1.0, "read": 2.0, "write": 2.0, "pool": 2.0}


async def test_send_keeps_posts_single_attempt_and_streams_bodies() -> None:
    handler = Recorder(httpx.Response(503))

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a":'
        yield b"1}"

    async with client(handler) as http:
        response = await send(http, "POST", "http://svc:8000/upload", timeout=httpx.Timeout(5.0), content=chunks())
    assert response.status_code == 503
    assert len(handler.calls) == 1
    assert handler.calls[0].content == b'{"a":1}'
