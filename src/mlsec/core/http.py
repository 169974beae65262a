"""The resilient HTTP client every service-to-service call goes through.

All resilience lives in one transport that wraps the one that talks to the socket (aiohttp's client
behind httpx's API, see `mlsec.core.http_transport`): explicit timeouts per operation class
(seed 001: default 30 s, training 300 s, prediction 10 s), retries with exponential backoff and
jitter for idempotent requests only (and for 429/502/503/504, honouring a capped `Retry-After`),
a circuit breaker per target host (pybreaker), and propagation of the request id and the
OpenTelemetry trace context. No client writes its own retry loop.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

import httpx
import pybreaker
from opentelemetry import propagate
from starlette.requests import ClientDisconnect
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from mlsec.core.errors import PayloadTooLargeError
from mlsec.core.http_transport import AiohttpTransport
from mlsec.core.logging import current_request_id
from mlsec.core.settings import Settings

Operation = Literal["default", "training", "prediction", "health"]
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
HEALTH_TIMEOUT_SECONDS = 3.0
PROBE_EXTENSIONS = {"mlsec_probe": True, "mlsec_retries": 0}
"""Per-request extensions for a health probe: one attempt, around the circuit breaker."""
logger = logging.getLogger("mlsec.http.client")


class CircuitOpenError(httpx.TransportError):
    """The target's circuit is open: the call was not attempted."""


class Answer(Protocol):
    """What the resilience layer reads of an answer: httpx's response, or the relay's (`mlsec.core.relay`)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


A = TypeVar("A", bound=Answer)


class _RetryableStatusError(Exception):
    """A response whose status says "try again"; carries it to the retry policy."""

    def __init__(self, response: Any, retry_after: float | None):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


class _ServerFailureError(Exception):
    """A 5xx response, raised inside the breaker so that it counts as a failure."""

    def __init__(self, response: Any):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def timeout_for(settings: Settings, operation: Operation = "default") -> httpx.Timeout:
    """The timeout of an operation class; connecting is always bounded separately."""
    seconds = {
        "default": settings.http_timeout_default,
        "training": settings.http_timeout_training,
        "prediction": settings.http_timeout_prediction,
        "health": HEALTH_TIMEOUT_SECONDS,
    }[operation]
    return httpx.Timeout(seconds, connect=min(settings.http_connect_timeout, seconds))


def parse_retry_after(value: str | None, cap: float) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds form), capped; None when absent or odd."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, min(seconds, cap))


class BreakerRegistry:
    """One circuit breaker per target host:port, created on first use."""

    def __init__(self, *, fail_max: int, reset_timeout: float):
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}

    def for_target(self, target: str) -> pybreaker.CircuitBreaker:
        breaker = self._breakers.get(target)
        if breaker is None:
            breaker = pybreaker.CircuitBreaker(
                fail_max=self.fail_max,
                reset_timeout=self.reset_timeout,
                name=target,
                throw_new_error_on_trip=False,
                exclude=[_caller_fault],
            )
            self._breakers[target] = breaker
        return breaker

    def state_of(self, target: str) -> str:
        """One target's breaker state ("closed" for a target never called); see `_state`."""
        breaker = self._breakers.get(target)
        return _state(breaker) if breaker is not None else "closed"

    def states(self) -> dict[str, str]:
        """Each known target's breaker state: closed, open or half-open."""
        return {target: _state(breaker) for target, breaker in self._breakers.items()}


def _state(breaker: pybreaker.CircuitBreaker) -> str:
    """closed, open, or half-open: open but past its reset timeout, so the next call is let through as a trial
    (pybreaker itself only switches when that call starts)."""
    state = str(breaker.current_state)
    opened_at = breaker._state_storage.opened_at  # pybreaker has no public accessor for it
    elapsed = opened_at is not None and datetime.now(UTC) >= opened_at + timedelta(seconds=breaker.reset_timeout)
    return "half-open" if state == "open" and elapsed else state


def _caller_fault(exc: BaseException) -> bool:
    """Whether a call failed on the body its own caller was still sending (a relayed upload over the body limit,
    or a caller gone mid-upload): the target is not at fault, so its breaker does not count it (else anyone
    could open a service's circuit with oversized uploads) and it is not retried (the body is gone)."""
    seen: BaseException | None = exc
    for _ in range(8):  # the transport's error, aiohttp's, then the body's own
        if seen is None:
            return False
        if isinstance(seen, (PayloadTooLargeError, ClientDisconnect)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_retryable(exc: BaseException) -> bool:
    """Network failures and "try again" statuses; never an open circuit (it will not close soon), never a
    failure of the caller's own body."""
    if isinstance(exc, CircuitOpenError) or _caller_fault(exc):
        return False
    return isinstance(exc, (httpx.TransportError, _RetryableStatusError))


def _target(request: httpx.Request) -> str:
    return target_of(request.url)


def target_of(url: httpx.URL) -> str:
    """The circuit breaker's key of a URL: `host:port`."""
    return f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


class ResilientTransport(httpx.AsyncBaseTransport):
    """Wraps another transport with retries, a per-host circuit breaker and context propagation."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        breakers: BreakerRegistry,
        retries: int,
        backoff_initial: float,
        backoff_max: float,
        retry_after_max: float,
    ):
        self.inner = inner
        self.breakers = breakers
        self.retries = retries
        self.retry_after_max = retry_after_max
        self._backoff = wait_exponential_jitter(multiplier=backoff_initial, max=backoff_max, jitter=backoff_initial)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for name, value in context_headers():
            request.headers.setdefault(name, value)
        return await self.call(
            request.method,
            _target(request),
            functools.partial(self.inner.handle_async_request, request),
            retries=int(request.extensions.get("mlsec_retries", self.retries)),
            probe=bool(request.extensions.get("mlsec_probe")),
            request=request,
        )

    async def call(
        self,
        method: str,
        target: str,
        attempt: Callable[[], Awaitable[A]],
        *,
        retries: int,
        probe: bool = False,
        request: httpx.Request | None = None,
    ) -> A:
        """Make one call through the resilience layer: `attempt()` sends it once to `target` (`host:port`) and
        answers; retries (idempotent methods only), the circuit breaker and its failures are this method's.
        httpx's requests come here, and the relay's (`mlsec.core.relay`), which sends no httpx objects."""
        attempts = retries + 1 if method in IDEMPOTENT_METHODS else 1
        if attempts == 1:  # nothing to retry (a POST, or retries off): no retry machinery on the hot path
            try:
                return await self._attempt(method, target, attempt, probe, request)
            except _RetryableStatusError as exc:
                answer: A = exc.response
                return answer
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=retry_if_exception(_is_retryable),
            reraise=True,
            before_sleep=self._log_retry,
        )
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    return await self._attempt(method, target, attempt, probe, request)
        except _RetryableStatusError as exc:  # retries exhausted: hand back the last answer
            last: A = exc.response
            return last
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _attempt(
        self, method: str, target: str, attempt: Callable[[], Awaitable[A]], probe: bool, request: httpx.Request | None
    ) -> A:
        if probe:
            # A health probe must see the target as it is now, not as its breaker remembers it.
            return await attempt()
        breaker = self.breakers.for_target(target)
        try:
            with breaker.calling():
                response = await attempt()
                if response.status_code >= 500:
                    raise _ServerFailureError(response)
        except _ServerFailureError as failure:
            response = failure.response
        except pybreaker.CircuitBreakerError as exc:
            raise CircuitOpenError(f"circuit open for {target}", request=request) from exc
        if response.status_code in RETRY_STATUSES and method in IDEMPOTENT_METHODS:
            if isinstance(response, httpx.Response):
                await response.aread()
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.retry_after_max)
            raise _RetryableStatusError(response, retry_after)
        return response

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatusError) and exc.retry_after is not None:
            return max(backoff, exc.retry_after)
        return backoff

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning("http.retry", extra={"attempt": state.attempt_number, "reason": type(exc).__name__})

    async def aclose(self) -> None:
        await self.inner.aclose()


def context_headers() -> list[tuple[str, str]]:
    """The headers that carry this request's context to the next service: its request id and the trace context
    (`traceparent`, ...), which a call adds unless it sets them itself."""
    found: list[tuple[str, str]] = []
    if request_id := current_request_id():
        found.append(("x-request-id", request_id))
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    found += carrier.items()
    return found


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: httpx.Timeout,  # noqa: ASYNC109 - httpx's per-request timeouts, handed to the transport
    params: Any = None,
    headers: Any = None,
    content: Any = None,
    extensions: dict[str, Any] | None = None,
) -> httpx.Response:
    """One request straight to `client`'s transport (the resilient one), the answer read in full.

    For relaying: `AsyncClient.request` walks auth flows, redirects, cookie jars and URL merging on every
    call, none of which a relayed request has, and that walk was a fifth of the gateway's CPU per
    forwarded call. The client's own headers are sent, the call's override them, and the client's
    credentials (`auth.platform_auth`: the service token, for the platform's origins only) are added
    by the first step of its auth flow, which is all such an auth has; retries, the circuit breaker and
    context propagation are the transport's, so they apply unchanged.
    """
    merged = httpx.Headers(client.headers)
    if headers:
        merged.update(headers)
    request = httpx.Request(
        method,
        _parsed_url(url),
        params=params,
        headers=merged,
        content=content,
        extensions={**(extensions or {}), "timeout": timeout.as_dict()},
    )
    if client.auth is not None:
        request = next(client.auth.auth_flow(request))
    response = await client._transport.handle_async_request(request)
    response.request = request
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


@functools.lru_cache(maxsize=4096)
def _parsed_url(url: str) -> httpx.URL:
    """httpx.URL is immutable and parsing one costs ~15 us: the URLs a relay sends repeat (`/predict`, ...)."""
    return httpx.URL(url)


def create_http_client(
    settings: Settings,
    *,
    breakers: BreakerRegistry | None = None,
    inner: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """A pooled AsyncClient whose every call goes through the resilient transport."""
    registry = breakers or BreakerRegistry(
        fail_max=settings.breaker_fail_max, reset_timeout=settings.breaker_reset_timeout
    )
    transport = ResilientTransport(
        inner or AiohttpTransport(),
        breakers=registry,
        retries=settings.http_retries,
        backoff_initial=settings.http_backoff_initial,
        backoff_max=settings.http_backoff_max,
        retry_after_max=settings.http_retry_after_max,
    )
    return httpx.AsyncClient(transport=transport, timeout=timeout_for(settings), headers=headers)
