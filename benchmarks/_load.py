"""The load generator: a fixed number of requests (GETs, or POSTs of JSON bodies) over a fixed number of workers.

Closed-loop (each worker sends its next request when the previous answer is in), because that is
how a service or an SDK calls another service; a bounded request count, never a duration, so a
slow machine makes the run longer but never changes what was measured.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import httpx

from benchmarks._servers import BenchmarkError
from mlsec.core.traffic import TRAFFIC_CLASS_HEADER

Client = httpx.AsyncClient | aiohttp.ClientSession
"""What a worker sends with: a light aiohttp session (the load generator), or an httpx client (when the
client itself is what is measured, as in the foundation suite's client rows)."""
GENERATOR = f"load generator: aiohttp {aiohttp.__version__}, one keep-alive session and connection per worker"
"""How the load was sent, for the records (earlier records, which do not say, used one httpx client per worker)."""
Body = Callable[[], bytes]
"""The JSON body of the next POST, already encoded; called once per request, so a body can change per request."""
# Load is synthetic traffic: marked so, it never counts as production (drift, retraining, business figures).
JSON_HEADERS = {"Content-Type": "application/json", TRAFFIC_CLASS_HEADER: "synthetic"}


def json_bodies(payloads: Iterable[object]) -> Body:
    """Cycle through `payloads`, encoded once up front so the load generator spends no CPU on JSON per request.

    Each call of the result gives the next body: two variants built from the same payloads and sent the same
    number of requests send the same sequence.
    """
    encoded = [json.dumps(payload).encode() for payload in payloads]
    if not encoded:
        raise ValueError("json_bodies needs at least one payload")
    cycle = itertools.cycle(encoded)
    return lambda: next(cycle)


@asynccontextmanager
async def worker_sessions(
    concurrency: int, *, timeout_seconds: float, headers: dict[str, str] | None = None
) -> AsyncIterator[list[aiohttp.ClientSession]]:
    """The load generator's clients: one keep-alive aiohttp session with one connection per worker, proxies
    ignored, sending `headers` (credentials, say) on every request.

    aiohttp rather than httpx: on two cores the load generator shares the machine with the servers it
    measures, and httpx's client costs about 1.3 ms of CPU per request against aiohttp's 0.15 ms, CPU
    taken from the servers. One session per worker, not one shared: a shared pool measures the pool.
    """
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=1, force_close=False),
                    timeout=timeout,
                    headers=headers,
                    cookie_jar=aiohttp.DummyCookieJar(),
                    trust_env=False,
                )
            )
            for _ in range(concurrency)
        ]


async def _send(client: Client, url: str, content: bytes | None) -> tuple[int, str]:
    """One request; the status and, for an error, the start of the body."""
    if isinstance(client, aiohttp.ClientSession):
        if content is None:
            async with client.get(url) as answer:
                body = await answer.read()
        else:
            async with client.post(url, data=content, headers=JSON_HEADERS) as answer:
                body = await answer.read()
        return answer.status, body[:200].decode("utf-8", "replace") if answer.status != 200 else ""
    response = await (client.get(url) if content is None else client.post(url, content=content, headers=JSON_HEADERS))
    return response.status_code, response.text[:200] if response.status_code != 200 else ""


@dataclass(frozen=True)
class Stats:
    """The summary of one variant: throughput, latency percentiles and CPU time per request."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float


@dataclass
class Sample:
    """Measurements of one variant, pooled over every round it ran."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu_seconds: float = 0.0

    def stats(self) -> Stats:
        n = len(self.latencies)
        if n < 2 or self.elapsed <= 0:
            raise BenchmarkError("too few requests to summarise: use --requests 100 or more")
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return Stats(
            requests=n,
            rps=n / self.elapsed,
            p50_ms=cuts[49] * 1000,
            p99_ms=cuts[98] * 1000,
            cpu_us_per_request=self.cpu_seconds / n * 1e6,
        )


async def drive(
    clients: Sequence[Client],
    url: str,
    *,
    requests: int,
    concurrency: int,
    body: Body | None = None,
) -> tuple[list[float], float]:
    """Send `requests` requests to `url` from `concurrency` workers; return each latency (s) and the wall time (s).

    GETs, or with `body` POSTs of `body()` as `application/json` (the body is taken before the clock starts).
    Worker i sends through `clients[i % len(clients)]`: one shared client measures that client's pool,
    one client per worker keeps the load generator's own pool out of a server's figures.
    """
    method = "GET" if body is None else "POST"
    latencies: list[float] = []
    failures: list[str] = []
    remaining = requests

    async def worker(client: Client) -> None:
        nonlocal remaining
        while remaining > 0 and not failures:  # bounded: every pass takes one request off the count
            remaining -= 1
            content = None if body is None else body()
            started = time.perf_counter()
            try:
                status, error = await _send(client, url, content)
            except (httpx.HTTPError, aiohttp.ClientError, TimeoutError) as exc:
                failures.append(f"{method} {url} failed: {type(exc).__name__}: {exc}")
                return
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures.append(f"{method} {url} answered {status}: {error}")

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:  # failures are collected, not raised, so none ends in an ExceptionGroup
        for index in range(min(concurrency, requests)):
            group.create_task(worker(clients[index % len(clients)]))
    elapsed = time.perf_counter() - started
    if failures:
        raise BenchmarkError(failures[0])
    return latencies, elapsed


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: the clients to send with, where to, whose CPU time to count, and the body
    of each request (None: GETs)."""

    name: str
    clients: Sequence[Client]
    url: str
    cpu_seconds: Callable[[], float]
    body: Body | None = None


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


async def compare(
    variants: list[Variant], *, requests: int, warmup: int, rounds: int, concurrency: int
) -> dict[str, Stats]:
    """Measure every variant with the same load, rounds interleaved in alternating order.

    Interleaving spreads any drift of the machine (CPU frequency, a neighbour's job) over all
    variants instead of charging it to whichever happened to run last.
    """
    for variant in variants:  # opens the keep-alive connections and warms caches and code paths
        await drive(variant.clients, variant.url, requests=warmup, concurrency=concurrency, body=variant.body)
    samples = {variant.name: Sample() for variant in variants}
    for index, count in enumerate(_split(requests, rounds)):
        order = variants if index % 2 == 0 else variants[::-1]
        for variant in order:
            cpu_before = variant.cpu_seconds()
            latencies, elapsed = await drive(
                variant.clients, variant.url, requests=count, concurrency=concurrency, body=variant.body
            )
            sample = samples[variant.name]
            sample.cpu_seconds += variant.cpu_seconds() - cpu_before
            sample.latencies.extend(latencies)
            sample.elapsed += elapsed
    return {name: sample.stats() for name, sample in samples.items()}
