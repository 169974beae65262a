"""The tracing service: OTLP ingest, queries over a million spans, and what exporting spans costs a service.

Jaeger is what a user would otherwise run, but neither Jaeger nor the OpenTelemetry Collector is published on the
package registries this project installs from (PyPI, npm, Debian), so this suite cannot start one beside ours in
the same run; the figures are judged against the issue's goals instead, and the export overhead is a ratio of the
same service with export on and off.

1. **Ingest**: the tracing service as a user starts it (`python -m mlsec serve tracing`, SQLite, defaults), fed
   OTLP/HTTP protobuf batches of 100 spans (whole traces of 5 spans shaped like the platform's predictions,
   `benchmarks._span_load`) from a separate process over 10 keep-alive connections (the OpenTelemetry
   Collector's OTLP exporter sends from 10 consumers by default; a platform of nine services exports from
   nine), until `spans` are stored.
   Meanwhile this process asks the query API for the newest traces every 100 ms and records how it answered:
   the query API must keep answering under load.
2. **Queries** with those spans stored (1,000,000 by default), the load stopped: a trace by id (ids drawn from the
   stored traces), a filtered search (service + operation + minimum trace duration + time range, limit 20), a
   search by tag, the RED metrics and the service map over an hour; sequential, one caller, keep-alive.
3. **Export overhead**: the same service app (`benchmarks._serve`) with span export off and on (to the tracing
   service above), the server's CPU per request over the same requests: what one traced request costs to export.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks import _report
from benchmarks._servers import REPO_ROOT, BenchmarkError, free_port
from benchmarks.control_tower import Latency, summarise
from benchmarks.serving import Server, child_env, start_server, wait_ready

SPANS = 1_000_000
QUICK_SPANS = 50_000
BATCH = 100
CONCURRENCY = 10
"""Requests in flight at once: the OpenTelemetry Collector's default `sending_queue.num_consumers`."""
QUERY_REQUESTS = 500
QUICK_QUERY_REQUESTS = 100
OVERHEAD_REQUESTS = 3000
QUICK_OVERHEAD_REQUESTS = 300
INGEST_GOAL = 10_000.0
"""Spans per second sustained, at least."""
QUERY_GOAL_MS = 10.0
"""p50 of a trace by id and of a filtered search with the spans stored, at most."""
PROBE_EVERY_S = 0.1
LOAD_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class TracingParams:
    """Everything that shapes a run; recorded with the results."""

    spans: int
    batch: int
    concurrency: int
    query_requests: int
    overhead_requests: int
    seed: int = 20261206


def params_for(*, quick: bool, requests: int | None) -> TracingParams:
    return TracingParams(
        spans=QUICK_SPANS if quick else SPANS,
        batch=BATCH,
        concurrency=CONCURRENCY,
        query_requests=requests or (QUICK_QUERY_REQUESTS if quick else QUERY_REQUESTS),
        overhead_requests=QUICK_OVERHEAD_REQUESTS if quick else OVERHEAD_REQUESTS,
    )


def start_tracing(stack: ExitStack, workdir: Path) -> Server:
    """`python -m mlsec serve tracing` with its own home, ready; stopped by `stack`."""
    port = free_port()
    env = child_env(MLSEC_HOME=str(workdir / "tracing-home"), MLSEC_TRACING_PORT=str(port), MLSEC_TRACE_EXPORT="false")
    started = time.monotonic()
    command = [sys.executable, "-m", "mlsec", "serve", "tracing"]
    server = start_server(stack, "tracing", command, env, workdir, port)
    wait_ready(server, ["/health/ready"], started)
    return server


# --- 1. ingest ----------------------------------------------------------------------------------------------


class QueryProbe:
    """Asks for the newest traces every PROBE_EVERY_S while the load runs: latencies and failures."""

    def __init__(self, url: str):
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> QueryProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not self._stop.wait(PROBE_EVERY_S):
                started = time.perf_counter()
                try:
                    answer = client.get(self.url, params={"limit": 20})
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    continue
                if answer.status_code == 200:
                    self.latencies.append(time.perf_counter() - started)
                else:
                    self.failures.append(str(answer.status_code))


def ingest(server: Server, params: TracingParams, workdir: Path, console: Console) -> dict[str, Any]:
    """Run the load process to the end with the query probe beside it; the load's and the probe's figures."""
    out = workdir / "load.json"
    command = [
        sys.executable, "-m", "benchmarks._span_load", server.url("/v1/traces"),
        str(params.spans), str(params.batch), str(params.concurrency), str(out),
    ]  # fmt: skip
    console.log(f"ingesting {params.spans:,} spans in batches of {params.batch} ...")
    cpu_before = server.cpu_seconds()
    with QueryProbe(server.url("/traces")) as probe:
        load = subprocess.run(command, cwd=REPO_ROOT, env=child_env(), timeout=LOAD_TIMEOUT_S, check=False)
    if load.returncode != 0:
        raise BenchmarkError(f"the span load exited with {load.returncode}")
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["probe"] = {
        "answers": len(probe.latencies),
        "failures": len(probe.failures),
        "failure_kinds": sorted(set(probe.failures)),
        **(asdict(summarise(probe.latencies)) if len(probe.latencies) >= 2 else {}),
    }
    figures["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 1)
    stored = httpx.get(server.url("/"), timeout=30).json()
    figures["stored_spans"] = stored["spans"]
    figures["stored_traces"] = stored["traces"]
    figures["met"] = figures["spans_per_second"] >= INGEST_GOAL
    console.log(
        f"ingest: {figures['spans_per_second']:,.0f} spans/s, {figures['retried']} saturated answers, "
        f"query probe p50 {figures['probe'].get('p50_ms', float('nan')):.1f} ms"
    )
    return figures


# --- 2. queries ---------------------------------------------------------------------------------------------


def _timed(client: httpx.Client, requests: list[tuple[str, dict[str, Any]]]) -> Latency:
    """Each request in turn after a tenth of them unmeasured; their latencies. A non-200 answer fails the run."""
    for path, query in requests[: max(5, len(requests) // 10)]:
        client.get(path, params=query)
    samples = []
    for path, query in requests:
        started = time.perf_counter()
        answer = client.get(path, params=query)
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise BenchmarkError(f"GET {path} {query} answered {answer.status_code}: {answer.text[:300]}")
    return summarise(samples)


def queries(server: Server, params: TracingParams, console: Console) -> dict[str, Any]:
    """Sequential reads of each kind over the stored spans; their latencies and what the searches found."""
    rng = random.Random(params.seed)
    n = params.query_requests
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(minutes=30)).isoformat(), "end": now.isoformat()}
    with httpx.Client(base_url=server.url(""), timeout=60, trust_env=False) as client:
        newest = client.get("/traces", params={"limit": 1000}).json()["traces"]
        if not newest:
            raise BenchmarkError("no trace stored")
        ids = [trace["trace_id"] for trace in newest]
        search: dict[str, Any] = {
            "service": "model-cache",
            "operation": "mlsec.predict",
            "min_duration_ms": 20,
            "limit": 20,
        }
        found = client.get("/search/traces", params={**search, **window}).json()
        tag = {"tag": "mlsec.model.name=toxicity", "limit": 20}
        cases: dict[str, list[tuple[str, dict[str, Any]]]] = {
            "trace by id": [(f"/traces/{rng.choice(ids)}", {}) for _ in range(n)],
            "filtered search": [("/search/traces", {**search, **window}) for _ in range(n)],
            "search by tag": [("/search/traces", tag) for _ in range(n)],
            "RED metrics (1 h)": [("/metrics/performance", {"window_minutes": 60}) for _ in range(max(20, n // 10))],
            "service map (1 h)": [("/service-map", {"window_minutes": 60}) for _ in range(max(20, n // 10))],
        }
        results = {}
        for name, requests in cases.items():
            console.log(f"query: {name} x {len(requests)}")
            results[name] = asdict(_timed(client, requests))
    return {
        "cases": results,
        "filtered_search_found": found["count"],
        "met": all(results[name]["p50_ms"] <= QUERY_GOAL_MS for name in ("trace by id", "filtered search")),
    }


# --- 3. export overhead -------------------------------------------------------------------------------------


def overhead(
    stack: ExitStack, tracing: Server, params: TracingParams, workdir: Path, console: Console
) -> dict[str, Any]:
    """Server CPU per traced request with span export off and on, the same requests, interleaved rounds."""
    servers = {}
    for variant in ("export off", "export on"):
        port = free_port()
        command = [sys.executable, "-m", "benchmarks._serve", "mlsec", str(port), str(workdir / variant)]
        if variant == "export on":
            command.append(tracing.url("/v1/traces"))
        started = time.monotonic()
        (workdir / variant).mkdir(exist_ok=True)
        server = start_server(stack, variant, command, child_env(), workdir, port, cwd=REPO_ROOT)
        wait_ready(server, ["/health/live"], started)
        servers[variant] = server
    cpu: dict[str, list[float]] = {name: [] for name in servers}
    rounds = 3
    with httpx.Client(timeout=30, trust_env=False) as client:
        for server in servers.values():
            for _ in range(max(20, params.overhead_requests // 10)):
                client.get(server.url("/bench/live"))
        for index in range(rounds):
            for name in list(servers) if index % 2 == 0 else list(servers)[::-1]:
                server = servers[name]
                before = server.cpu_seconds()
                for _ in range(params.overhead_requests // rounds):
                    client.get(server.url("/bench/live"))
                cpu[name].append((server.cpu_seconds() - before) / (params.overhead_requests // rounds))
    time.sleep(2)  # the last batch leaves the exporter
    per_request = {name: round(statistics.fmean(values) * 1e6, 1) for name, values in cpu.items()}
    console.log(f"export overhead: {per_request}")
    return {
        "cpu_us_per_request": per_request,
        "ratio": round(per_request["export on"] / per_request["export off"], 3),
        "extra_us_per_request": round(per_request["export on"] - per_request["export off"], 1),
    }


def run(workdir: Path, params: TracingParams, console: Console) -> dict[str, Any]:
    with ExitStack() as stack:
        tracing = start_tracing(stack, workdir)
        figures: dict[str, Any] = {"ingest": ingest(tracing, params, workdir, console)}
        figures["queries"] = queries(tracing, params, console)
        figures["overhead"] = overhead(stack, tracing, params, workdir, console)
    return figures


# --- report -------------------------------------------------------------------------------------------------

QUERY_COLUMNS = ("Query", "requests", "p50 ms", "p95 ms", "p99 ms")


def query_cells(figures: dict[str, Any]) -> list[list[str]]:
    return [
        [name, f"{c['requests']:,}", f"{c['p50_ms']:.2f}", f"{c['p95_ms']:.2f}", f"{c['p99_ms']:.2f}"]
        for name, c in figures["queries"]["cases"].items()
    ]


def verdict_lines(figures: dict[str, Any]) -> list[str]:
    word = _report.verdict_word
    ingest_, queries_, overhead_ = figures["ingest"], figures["queries"], figures["overhead"]
    probe = ingest_["probe"]
    cases = queries_["cases"]
    return [
        f"Ingest goal (>= {INGEST_GOAL:,.0f} spans/s sustained, protobuf batches of {BATCH}): {word(ingest_['met'])}: "
        f"{ingest_['spans_per_second']:,.0f} spans/s over {ingest_['seconds']:.0f} s "
        f"({ingest_['accepted']:,} spans accepted, {ingest_['retried']} answers 503/429 retried).",
        f"Query API under that load: {probe['answers']} answers, {probe['failures']} failures, "
        f"p50 {probe.get('p50_ms', float('nan')):.1f} ms, p99 {probe.get('p99_ms', float('nan')):.1f} ms.",
        f"Query goal (p50 <= {QUERY_GOAL_MS:g} ms with {ingest_['stored_spans']:,} spans stored): "
        f"{word(queries_['met'])}: trace by id {cases['trace by id']['p50_ms']:.2f} ms, filtered search "
        f"{cases['filtered search']['p50_ms']:.2f} ms.",
        f"Export overhead: {overhead_['extra_us_per_request']:.0f} µs of server CPU per traced request "
        f"({overhead_['ratio']:.2f}x the same service with export off).",
    ]


def rich_tables(figures: dict[str, Any]) -> list[Table]:
    return [
        _report.cells_table("Tracing queries with the spans stored", QUERY_COLUMNS, query_cells(figures)),
        _report.verdict_table(verdict_lines(figures)),
    ]


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    return record


def markdown(record: dict[str, Any]) -> str:
    p = record["parameters"]
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    cpu = record["overhead"]["cpu_us_per_request"]
    return f"""# Tracing benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- Tracing service: `python -m mlsec serve tracing`, SQLite, defaults. Load: `benchmarks._span_load`, a separate
process, {p["spans"]:,} spans in OTLP/HTTP protobuf batches of {p["batch"]} over {p["concurrency"]} keep-alive
connections; queries sequential, one caller, {p["query_requests"]} per case.
- No anchor in the same run: neither Jaeger nor the OpenTelemetry Collector installs from PyPI, npm or Debian.
- Run time: {record["duration_s"]:.0f} s

## Verdicts

{verdicts}

## Queries

{_report.markdown_cells(QUERY_COLUMNS, query_cells(record))}

## Export overhead

Server CPU per request of the same app: export off {cpu["export off"]} µs, export on {cpu["export on"]} µs.
"""
