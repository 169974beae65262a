"""The load generator: a fixed number of GETs over a fixed number of concurrent workers.

Closed-loop (each worker sends its next request when the previous answer is in), because that is
how a service or an SDK calls another service; a bounded request count, never a duration, so a
slow machine makes the run longer but never changes what was measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from benchmarks._servers import BenchmarkError


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
    clients: Sequence[httpx.AsyncClient], url: str, *, requests: int, concurrency: int
) -> tuple[list[float], float]:
    """Send `requests` GETs to `url` from `concurrency` workers; return each latency (s) and the wall time (s).

    Worker i sends through `clients[i % len(clients)]`: one shared client measures that client's pool,
    one client per worker keeps the load generator's own pool out of a server's figures.
    """
    latencies: list[float] = []
    failures: list[str] = []
    remaining = requests

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0 and not failures:  # bounded: every pass takes one request off the count
            remaining -= 1
            started = time.perf_counter()
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                failures.append(f"GET {url} failed: {type(exc).__name__}: {exc}")
                return
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(f"GET {url} answered {response.status_code}: {response.text[:200]}")

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
    """One side of a comparison: the clients to send with, where to, and whose CPU time to count."""

    name: str
    clients: Sequence[httpx.AsyncClient]
    url: str
    cpu_seconds: Callable[[], float]


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
        await drive(variant.clients, variant.url, requests=warmup, concurrency=concurrency)
    samples = {variant.name: Sample() for variant in variants}
    for index, count in enumerate(_split(requests, rounds)):
        order = variants if index % 2 == 0 else variants[::-1]
        for variant in order:
            cpu_before = variant.cpu_seconds()
            latencies, elapsed = await drive(variant.clients, variant.url, requests=count, concurrency=concurrency)
            sample = samples[variant.name]
            sample.cpu_seconds += variant.cpu_seconds() - cpu_before
            sample.latencies.extend(latencies)
            sample.elapsed += elapsed
    return {name: sample.stats() for name, sample in samples.items()}
