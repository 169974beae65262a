"""The platform-foundation benchmarks: what the shared service stack and the shared HTTP client cost.

1. Service stack: the same liveness handler served by uvicorn, once in an app built by
   `create_service_app` and once in a bare `FastAPI()`. The difference is what every mlsec
   request pays for the request id, Prometheus metrics, the error envelope and OpenTelemetry.
2. Resilient client: `create_http_client` (retries, circuit breaker, context propagation) against
   the plain `httpx.AsyncClient()` a user would otherwise write, both calling the bare server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console

from benchmarks._load import Stats, Variant, compare, worker_sessions
from benchmarks._serve import LIVE_PATH, TRACED_PATH
from benchmarks._servers import ServerProcess

REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Params:
    """Everything that shapes a run; recorded with the results so a figure can be reproduced."""

    requests: int
    warmup: int
    rounds: int
    service_concurrency: tuple[int, ...] = (1, 16)
    client_concurrency: int = 16


@dataclass(frozen=True)
class Comparison:
    """One measured pair: ours (`subject`) against what a user would otherwise pick (`baseline`)."""

    benchmark: str
    case: str
    concurrency: int
    cpu_of: str
    baseline_name: str
    subject_name: str
    baseline: Stats
    subject: Stats

    @property
    def rps_ratio(self) -> float:
        """Ours / baseline throughput: below 1 means ours serves fewer requests per second."""
        return self.subject.rps / self.baseline.rps

    @property
    def p99_ratio(self) -> float:
        """Ours / baseline p99 latency: above 1 means ours has the slower tail."""
        return self.subject.p99_ms / self.baseline.p99_ms

    @property
    def cpu_ratio(self) -> float:
        """Ours / baseline CPU time per request, in the process named by `cpu_of`."""
        return self.subject.cpu_us_per_request / self.baseline.cpu_us_per_request


async def service_stack(bare: ServerProcess, ours: ServerProcess, params: Params, console: Console) -> list[Comparison]:
    """GET the liveness handler on both servers, on the untraced and the traced path, at each concurrency."""
    results: list[Comparison] = []
    for path in (LIVE_PATH, TRACED_PATH):
        for concurrency in params.service_concurrency:
            console.log(f"service stack: GET {path} at concurrency {concurrency}")
            async with (
                worker_sessions(concurrency, timeout_seconds=REQUEST_TIMEOUT_SECONDS) as bare_clients,
                worker_sessions(concurrency, timeout_seconds=REQUEST_TIMEOUT_SECONDS) as our_clients,
            ):
                stats = await compare(
                    [
                        Variant("bare FastAPI", bare_clients, bare.url(path), bare.cpu_seconds),
                        Variant("mlsec", our_clients, ours.url(path), ours.cpu_seconds),
                    ],
                    requests=params.requests,
                    warmup=params.warmup,
                    rounds=params.rounds,
                    concurrency=concurrency,
                )
            results.append(
                Comparison(
                    benchmark="service stack",
                    case=f"stack GET {path}" + (" (traced)" if path == TRACED_PATH else ""),
                    concurrency=concurrency,
                    cpu_of="server",
                    baseline_name="bare FastAPI",
                    subject_name="mlsec",
                    baseline=stats["bare FastAPI"],
                    subject=stats["mlsec"],
                )
            )
    return results


def _process_cpu_seconds() -> float:
    return time.process_time()


async def resilient_client(bare: ServerProcess, home: Path, params: Params, console: Console) -> Comparison:
    """The same GETs to the bare server through our resilient client and through a plain one.

    One client shared by all workers, as a service shares its one pooled client between requests.

    The plain client keeps httpx's defaults (100 connections, 20 kept alive), which are also the
    pool our client's inner transport uses, so the pools are equal and only the resilience differs.
    CPU time is the benchmark process's own: the client is what is measured here.
    """
    from mlsec.core.http import create_http_client
    from mlsec.core.settings import Settings

    concurrency = params.client_concurrency
    console.log(f"resilient client: GET {LIVE_PATH} at concurrency {concurrency}")
    settings = Settings(_env_file=None, home=home)
    url = bare.url(LIVE_PATH)
    cpu: Callable[[], float] = _process_cpu_seconds
    async with httpx.AsyncClient() as plain, create_http_client(settings) as ours:
        stats = await compare(
            [Variant("httpx.AsyncClient", [plain], url, cpu), Variant("mlsec client", [ours], url, cpu)],
            requests=params.requests,
            warmup=params.warmup,
            rounds=params.rounds,
            concurrency=concurrency,
        )
    return Comparison(
        benchmark="resilient client",
        case=f"client GET {LIVE_PATH} (bare)",
        concurrency=concurrency,
        cpu_of="client",
        baseline_name="httpx.AsyncClient",
        subject_name="mlsec client",
        baseline=stats["httpx.AsyncClient"],
        subject=stats["mlsec client"],
    )
