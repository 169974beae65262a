"""The business-metrics service: KPI queries against pandas over the raw prediction log, what a collection
round costs, and how long a report takes.

What a user without this service does is export the prediction log and compute the KPIs with pandas, so that
is the baseline, in the same run, over the same records:

1. **KPI queries**: raw records (`benchmarks._business_data`: `days` of a prediction log of three model
   versions, ~2.3 million predictions over 30 days, and the model API's process samples) are counted into the
   service's database through its own writers (`service/rollups.py`), then the service runs as a user starts
   it (`python -m mlsec serve business-metrics`, SQLite, its collector off) and answers `/metrics/summary` and
   `/costs` over 30 days, `/latency` per minute over 24 h and `/metrics/kpis?kpi=latency_p99_ms` over 7 days,
   sequentially over one keep-alive connection. pandas computes the same figures from the same records read
   from Parquet (`benchmarks._business_pandas`); load and compute are timed apart. Both must give the same
   figures: counts and costs equal, quantiles within the sketch's 1%.
2. **Collection round**: CPU seconds of one round against a real model API with K production predictions
   logged (`benchmarks._business_collect`).
3. **Reports**: seconds for a 30-day PDF, HTML and CSV report (`POST /reports/generate`).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks import _business_pandas as baseline
from benchmarks import _report
from benchmarks._business_collect import collection_round
from benchmarks._business_data import describe, generate, load_into_service, write_parquet
from benchmarks._servers import BenchmarkError, free_port
from benchmarks.control_tower import summarise
from benchmarks.serving import Server, child_env, start_server, wait_ready


@dataclass(frozen=True)
class BusinessParams:
    """Everything that shapes a run; recorded with the results."""

    days: float
    query_requests: int
    baseline_repetitions: int
    report_repetitions: int
    collect_predictions: int
    report_period: str = "30d"
    seed: int = 20261206


def params_for(*, quick: bool, requests: int | None) -> BusinessParams:
    if quick:
        return BusinessParams(
            days=2, query_requests=requests or 10, baseline_repetitions=2, report_repetitions=1, collect_predictions=500
        )
    return BusinessParams(
        days=30, query_requests=requests or 30, baseline_repetitions=3, report_repetitions=2, collect_predictions=10_000
    )


@dataclass(frozen=True)
class Case:
    """One KPI query: the service's route and parameters, pandas' computation of it, and the comparison."""

    name: str
    path: str
    query: dict[str, str]
    compute: baseline.Compute
    agree: baseline.Agree


CASES = (
    Case("summary 30d", "/metrics/summary", {"period": "30d"}, baseline.summary, baseline.agree_summary),
    Case("costs 30d", "/costs", {"period": "30d"}, baseline.costs, baseline.agree_costs),
    Case(
        "latency/minute 24h",
        "/latency",
        {"period": "24h", "resolution": "minute"},
        baseline.latency_series,
        baseline.agree_latency,
    ),
    Case(
        "p99 KPI 7d",
        "/metrics/kpis",
        {"kpi": "latency_p99_ms", "period": "7d"},
        baseline.kpi_p99,
        baseline.agree_kpi,
    ),
)


def start_business(stack: ExitStack, workdir: Path, home: Path) -> Server:
    """`python -m mlsec serve business-metrics` on the loaded home, its collector off; ready."""
    port = free_port()
    env = child_env(
        MLSEC_HOME=str(home),
        MLSEC_BUSINESS_METRICS_PORT=str(port),
        MLSEC_BUSINESS_METRICS_COLLECT_ENABLED="false",
        MLSEC_TRACE_EXPORT="false",
        LOG_LEVEL="WARNING",
    )
    started = time.monotonic()
    server = start_server(
        stack, "business-metrics", [sys.executable, "-m", "mlsec", "serve", "business-metrics"], env, workdir, port
    )
    wait_ready(server, ["/health/ready"], started)
    return server


def _timed(repetitions: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The median seconds of `repetitions` calls, and the last call's result."""
    seconds, result = [], None
    for _ in range(repetitions):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def _service(client: httpx.Client, server: Server, case: Case, requests: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """`requests` sequential GETs after a tenth unmeasured: latencies, server CPU per request, the last answer."""
    answer = None
    for _ in range(max(2, requests // 10)):
        client.get(case.path, params=case.query)
    samples, cpu = [], server.cpu_seconds()
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(case.path, params=case.query)
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise BenchmarkError(f"GET {case.path} {case.query} answered {answer.status_code}: {answer.text[:300]}")
    latency = asdict(summarise(samples))
    latency["server_cpu_ms_per_request"] = round((server.cpu_seconds() - cpu) / requests * 1000, 2)
    assert answer is not None
    return latency, answer.json()


def queries(server: Server, params: BusinessParams, exports: tuple[Path, Path], console: Console) -> dict[str, Any]:
    """Each case through the service and through pandas; times, ratios and the agreement of their figures."""
    log_path, samples_path = exports
    load_s, (log, samples) = _timed(
        params.baseline_repetitions, lambda: (pd.read_parquet(log_path), pd.read_parquet(samples_path))
    )
    console.log(f"pandas: the export read in {load_s * 1000:.0f} ms ({len(log):,} predictions)")
    cases: dict[str, Any] = {}
    with httpx.Client(base_url=server.url(""), timeout=120, trust_env=False) as client:
        for case in CASES:
            console.log(f"query: {case.name} x {params.query_requests}")
            latency, answer = _service(client, server, case, params.query_requests)
            compute_s, expected = _timed(params.baseline_repetitions, partial(case.compute, log, samples, answer))
            p50_s = latency["p50_ms"] / 1000
            cases[case.name] = {
                "route": f"GET {case.path}?" + "&".join(f"{k}={v}" for k, v in case.query.items()),
                "resolution": answer.get("resolution"),
                "service": latency,
                "pandas_compute_ms": round(compute_s * 1000, 2),
                "pandas_load_and_compute_ms": round((load_s + compute_s) * 1000, 2),
                "ratio_to_compute": round(p50_s / compute_s, 3),
                "ratio_to_load_and_compute": round(p50_s / (load_s + compute_s), 3),
                "agreement": case.agree(answer, expected),
            }
    return {"pandas_load_ms": round(load_s * 1000, 2), "cases": cases}


def reports(server: Server, params: BusinessParams, console: Console) -> dict[str, Any]:
    """Seconds to generate (build, render, store) a report of `report_period` in each format; its size."""
    figures = {}
    with httpx.Client(base_url=server.url(""), timeout=600, trust_env=False) as client:
        for fmt in ("pdf", "html", "csv"):
            body = {"format": fmt, "period": params.report_period}
            seconds, answer = _timed(params.report_repetitions, partial(client.post, "/reports/generate", json=body))
            if answer.status_code != 201:
                raise BenchmarkError(f"report {fmt} answered {answer.status_code}: {answer.text[:300]}")
            figures[fmt] = {"seconds": round(seconds, 3), "size_kib": round(answer.json()["size_bytes"] / 1024, 1)}
            console.log(f"report {fmt}: {seconds:.2f} s")
    return figures


def run(workdir: Path, params: BusinessParams, console: Console) -> dict[str, Any]:
    records = generate(datetime.now(UTC), params.days, params.seed)
    data = describe(records)
    exports = write_parquet(records, workdir)
    data["parquet_mib"] = round(sum(path.stat().st_size for path in exports) / 2**20, 1)
    console.log(f"{data['predictions']:,} predictions over {data['days']} days; counting them into the service ...")
    data.update(load_into_service(workdir / "business-home", records))
    console.log(f"loaded in {data['load_s']:.0f} s ({data['database_mib']} MiB)")
    figures: dict[str, Any] = {"data": data}
    with ExitStack() as stack:
        server = start_business(stack, workdir, workdir / "business-home")
        figures["queries"] = queries(server, params, exports, console)
        figures["reports"] = reports(server, params, console)
    with ExitStack() as stack:
        figures["collection"] = collection_round(stack, workdir, params.collect_predictions, console)
    return figures


# --- report -------------------------------------------------------------------------------------------------

QUERY_COLUMNS = (
    "Query",
    "p50 ms",
    "p99 ms",
    "CPU ms",
    "pandas ms",
    "read+pandas ms",
    "ratio",
    "ratio w/ read",
    "same figures",
)


def _agreement(a: dict[str, Any]) -> str:
    worst = max(a["max_relative_difference"].values(), default=0.0)
    return f"{'yes' if a['agree'] else 'NO'}: {a['compared']:,}, max {worst:.3%}"


def query_cells(figures: dict[str, Any]) -> list[list[str]]:
    return [
        [
            name,
            f"{c['service']['p50_ms']:.1f}",
            f"{c['service']['p99_ms']:.1f}",
            f"{c['service']['server_cpu_ms_per_request']:.1f}",
            f"{c['pandas_compute_ms']:.1f}",
            f"{c['pandas_load_and_compute_ms']:.1f}",
            f"{c['ratio_to_compute']:.2f}",
            f"{c['ratio_to_load_and_compute']:.2f}",
            _agreement(c["agreement"]),
        ]
        for name, c in figures["queries"]["cases"].items()
    ]


REPORT_COLUMNS = ("Report (30 d)", "seconds", "KiB")
COLLECT_COLUMNS = ("Collection round", "collector CPU s", "wall s", "model API CPU s", "records")


def report_cells(figures: dict[str, Any]) -> list[list[str]]:
    return [[fmt.upper(), f"{r['seconds']:.2f}", f"{r['size_kib']:,.1f}"] for fmt, r in figures["reports"].items()]


def collect_cells(figures: dict[str, Any]) -> list[list[str]]:
    c = figures["collection"]
    return [
        [
            name,
            f"{c[name]['collector_cpu_s']:.2f}",
            f"{c[name]['wall_s']:.2f}",
            f"{c[name]['model_api_cpu_s']:.2f}",
            f"{c[name]['records']:,}",
        ]
        for name in ("new records", "nothing new")
    ]


def verdict_lines(figures: dict[str, Any]) -> list[str]:
    cases, c, d = figures["queries"]["cases"], figures["collection"], figures["data"]
    agree = all(case["agreement"]["agree"] for case in cases.values())
    ratios = ", ".join(f"{name} {case['ratio_to_compute']:.2f}" for name, case in cases.items())
    versions = ", ".join(f"v{k} {v:,}" for k, v in d["per_version"].items())
    new = c["new records"]
    return [
        f"Data: {d['predictions']:,} predictions over {d['days']} days ({versions}), "
        f"counted into the service in {d['load_s']:.0f} s; Parquet export {d['parquet_mib']} MiB, read by pandas in "
        f"{figures['queries']['pandas_load_ms']:.0f} ms.",
        f"Service p50 / pandas compute (below 1: the service answers faster): {ratios}.",
        f"Same figures: {'yes' if agree else 'NO'} (counts and costs equal, quantiles within the sketch's 1%).",
        f"Collection round with {c['predictions']:,} new production records: {new['collector_cpu_s']:.2f} s "
        f"of collector CPU ({c['collector_cpu_ms_per_1k']:.0f} ms per 1,000 records; "
        f"{c['collector_marginal_cpu_ms_per_1k']:.0f} ms over a round with nothing new), model API "
        f"{c['model_api_cpu_ms_per_1k']:.0f} ms per 1,000 answering it; a round with nothing new "
        f"{c['nothing new']['collector_cpu_s']:.2f} s; all counted: {'yes' if c['all_counted'] else 'NO'}.",
    ]


def rich_tables(figures: dict[str, Any]) -> list[Table]:
    return [
        _report.cells_table(
            "KPI queries: the service over HTTP against pandas over the Parquet export",
            QUERY_COLUMNS,
            query_cells(figures),
            caption="ratio = service p50 / pandas compute (w/ read: + reading the Parquet export); below 1: "
            "the service is faster. CPU: the service's, per request.",
        ),
        _report.cells_table("Reports", REPORT_COLUMNS, report_cells(figures)),
        _report.cells_table("Collection", COLLECT_COLUMNS, collect_cells(figures)),
        _report.verdict_table(verdict_lines(figures)),
    ]


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    return record


def markdown(record: dict[str, Any]) -> str:
    p = record["parameters"]
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    return f"""# Business-metrics benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- pandas {pd.__version__}. Service: `python -m mlsec serve business-metrics`, SQLite, collector off, its
database loaded through its own writers; queries sequential over one keep-alive connection, {p["query_requests"]}
per query; pandas timed {p["baseline_repetitions"]} times (median), reports {p["report_repetitions"]} times.
- Run time: {record["duration_s"]:.0f} s

## Verdicts

{verdicts}

## KPI queries

{_report.markdown_cells(QUERY_COLUMNS, query_cells(record))}

## Reports ({p["report_period"]})

{_report.markdown_cells(REPORT_COLUMNS, report_cells(record))}

## Collection

{_report.markdown_cells(COLLECT_COLUMNS, collect_cells(record))}
"""
