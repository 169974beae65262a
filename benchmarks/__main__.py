"""`python -m benchmarks` (`make bench`): run the benchmark suites and record the results.

Suites: `foundation` (service stack and resilient client against bare FastAPI and httpx),
`model` (the default model's held-out quality, training time and size against a hand-written
TF-IDF + LogisticRegression), `serving` (the model API against `mlflow models serve` and the
in-process model, on the same registered model), `gateway` (a prediction direct to the model API,
through the mlsec gateway and through nginx), `drift` (`detect_drift` against Evidently's data-drift
report on a million rows by twenty columns), `control-tower` (the control tower's registry views, restart and
refreshes against MLflow's own API, on a registry of 200 models x 5 versions) and `data-privacy` (the PII engine
against Presidio's analyzer on the shipped labelled PII set: docs/s and per-type precision, recall, F1) and
`tracing` (OTLP ingest from a separate process, queries over a million spans, CPU per request with span export
on and off) and `business-metrics` (KPI queries against pandas over the raw prediction log, a collection round's
CPU, report generation).

Each suite's servers start first and stay up for the whole suite, so the comparisons share the
machine's state; they are stopped however the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

from benchmarks import (
    _report,
    business_metrics,
    control_tower,
    data_privacy,
    drift,
    gateway,
    model,
    serving,
    tracing,
)
from benchmarks._servers import BenchmarkError, ServerProcess, isolate_environment, running_server
from benchmarks.foundation import Comparison, Params, resilient_client, service_stack

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_REQUESTS = 3000
QUICK_REQUESTS = 200
SERVING_REQUESTS = 2000
"""The serving and gateway suites' default per cell: a model prediction costs far more than a liveness GET."""
SERVING_QUICK_REQUESTS = 100


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--requests",
        type=int,
        help=f"requests per measured cell (default {DEFAULT_REQUESTS}, serving and gateway suites {SERVING_REQUESTS})",
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds the requests are split into")
    parser.add_argument("--warmup", type=int, help="warm-up requests per variant before measuring (default 10%%)")
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: {QUICK_REQUESTS} requests, results not recorded"
    )
    parser.add_argument("--no-record", action="store_true", help="print the table only, write no result files")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where result files go")
    parser.add_argument("--suite", choices=("all", *SUITES), default="all", help="which suite to run")
    args = parser.parse_args(argv)
    if args.requests is not None and args.requests < 100:
        parser.error("--requests must be at least 100 (p99 needs them)")
    if args.rounds < 1 or (args.warmup is not None and args.warmup < 0):
        parser.error("--rounds must be at least 1 and --warmup not negative")
    return args


def _run(home: Path, params: Params, console: Console) -> list[Comparison]:
    """Start both servers (outside the event loop: starting blocks), then run every benchmark against them."""

    async def measure(bare: ServerProcess, ours: ServerProcess) -> list[Comparison]:
        comparisons = await service_stack(bare, ours, params, console)
        comparisons.append(await resilient_client(bare, home, params, console))
        return comparisons

    with running_server("bare", home) as bare, running_server("mlsec", home) as ours:
        console.log(f"servers live: bare on :{bare.port}, mlsec on :{ours.port}")
        return asyncio.run(measure(bare, ours))


def main(argv: list[str] | None = None) -> int:
    """Run the chosen suites; 1 when one could not run."""
    args = _parse(argv)
    console = Console()
    if not console.is_terminal:  # piped or captured: rich would cut the tables to 80 columns
        console.width = _report.TABLE_WIDTH
    suites = SUITES if args.suite == "all" else (args.suite,)
    codes = [SUITES[name](args, console) for name in suites]
    return max(codes)


def run_model(args: argparse.Namespace, console: Console) -> int:
    """The default model against the hand-written anchor; recorded as model-<date>."""
    started_at = datetime.now(UTC)
    console.log("training the default model and the anchor on the shipped data ...")
    figures, rows = model.run()
    console.print(model.rich_table(figures))
    if args.quick or args.no_record:
        return 0
    record: dict[str, Any] = {
        "suite": "model",
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": _report.machine(),
        "versions": _report.versions(),
        "rows": rows,
        "classifiers": [asdict(f) for f in figures],
    }
    paths = _report.write_record(
        args.results_dir, f"model-{started_at:%Y-%m-%d}", record, model.markdown(record, figures)
    )
    console.log(f"recorded {paths[0]} and {paths[1]}")
    return 0


def _start_record(suite: str, parameters: dict[str, Any], console: Console) -> tuple[datetime, dict[str, Any]]:
    """Isolate the environment and begin a suite's record: when, machine, versions, parameters."""
    dropped = isolate_environment()
    if dropped:
        console.log(f"ignoring for this run: {', '.join(dropped)}")
    started_at = datetime.now(UTC)
    record: dict[str, Any] = {
        "suite": suite,
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": _report.machine(),
        "versions": _report.versions(),
        "parameters": parameters,
    }
    load, cores = record["machine"]["load_average_at_start"][0], record["machine"]["usable_cores"]
    if load > cores / 2:
        console.log(f"[yellow]machine busy (load {load} on {cores} cores): figures will be noisy, ratios less so")
    return started_at, record


def run_foundation(args: argparse.Namespace, console: Console) -> int:
    """Run, print the table and record it; 1 when a benchmark could not run (a server failed to start, ...)."""
    requests = args.requests or (QUICK_REQUESTS if args.quick else DEFAULT_REQUESTS)
    warmup = args.warmup if args.warmup is not None else max(20, requests // 10)
    params = Params(requests=requests, warmup=warmup, rounds=args.rounds)
    started_at, record = _start_record("foundation", _report.parameters(params), console)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="mlsec-bench-") as home:
            comparisons = _run(Path(home), params, console)
    except BenchmarkError as exc:
        console.print(f"[red]benchmark failed:[/red] {exc}")
        return 1
    record["duration_s"] = round(time.monotonic() - started, 1)
    record["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    console.print(_report.rich_table(comparisons))
    if args.quick or args.no_record:
        console.log("not recorded (--quick or --no-record)")
        return 0
    stem = f"foundation-{started_at:%Y-%m-%d}"
    json_path, md_path = _report.write_results(args.results_dir, stem, record, comparisons)
    console.log(f"recorded {json_path} and {md_path}")
    return 0


class _SuiteReport(Protocol):
    """How a suite module presents its record (the serving and gateway modules are such objects)."""

    def rich_tables(self, figures: dict[str, Any]) -> list[Table]: ...

    def record_json(self, record: dict[str, Any]) -> dict[str, Any]: ...

    def markdown(self, record: dict[str, Any]) -> str: ...


def _run_in_workdir(
    args: argparse.Namespace,
    console: Console,
    suite: str,
    params: Any,
    run: Callable[[Path, Any, Console], dict[str, Any]],
    module: _SuiteReport,
) -> int:
    """A suite that sets up its own servers in a temporary directory: run, print, record as <suite>-<date>."""
    started_at, record = _start_record(suite, asdict(params), console)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix=f"mlsec-bench-{suite}-") as workdir:
            record.update(run(Path(workdir), params, console))
    except BenchmarkError as exc:
        console.print(f"[red]benchmark failed:[/red] {exc}")
        return 1
    record["duration_s"] = round(time.monotonic() - started, 1)
    record["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for table in module.rich_tables(record):
        console.print(table)
    if args.quick or args.no_record:
        console.log("not recorded (--quick or --no-record)")
        return 0
    paths = _report.write_record(
        args.results_dir, f"{suite}-{started_at:%Y-%m-%d}", module.record_json(record), module.markdown(record)
    )
    console.log(f"recorded {paths[0]} and {paths[1]}")
    return 0


def _serving_requests(args: argparse.Namespace) -> tuple[int, int]:
    """Requests and warm-up per cell of the suites that drive a model: a prediction costs more than a GET."""
    requests = args.requests or (SERVING_QUICK_REQUESTS if args.quick else SERVING_REQUESTS)
    warmup = args.warmup if args.warmup is not None else max(20, requests // 10)
    return requests, warmup


def run_serving(args: argparse.Namespace, console: Console) -> int:
    """The model API against `mlflow models serve` and the in-process model; recorded as serving-<date>."""
    requests, warmup = _serving_requests(args)
    params = serving.ServingParams(
        requests=requests, warmup=warmup, rounds=args.rounds, batch_repetitions=2 if args.quick else 5
    )
    return _run_in_workdir(args, console, "serving", params, serving.run, serving)


def run_gateway(args: argparse.Namespace, console: Console) -> int:
    """A prediction direct to the model API, through the gateway and through nginx; recorded as gateway-<date>."""
    requests, warmup = _serving_requests(args)
    params = gateway.GatewayParams(requests=requests, warmup=warmup, rounds=args.rounds)
    return _run_in_workdir(args, console, "gateway", params, gateway.run, gateway)


def run_drift(args: argparse.Namespace, console: Console) -> int:
    """detect_drift against Evidently's data-drift report (--quick: 100,000 rows); recorded as drift-<date>."""
    params = drift.DriftParams(rows=drift.QUICK_ROWS if args.quick else drift.ROWS)
    return _run_in_workdir(args, console, "drift", params, drift.run, drift)


def run_control_tower(args: argparse.Namespace, console: Console) -> int:
    """The control tower against MLflow's API on 200 models x 5 versions (--quick: 40 models); recorded as
    control-tower-<date>."""
    params = control_tower.params_for(args.requests, args.rounds, quick=args.quick)
    return _run_in_workdir(args, console, "control-tower", params, control_tower.run, control_tower)


def run_data_privacy(args: argparse.Namespace, console: Console) -> int:
    """The PII engine against Presidio's analyzer on the shipped labelled set; recorded as data-privacy-<date>."""
    params = data_privacy.DataPrivacyParams(rounds=1 if args.quick else args.rounds)
    return _run_in_workdir(args, console, "data-privacy", params, data_privacy.run, data_privacy)


def run_tracing(args: argparse.Namespace, console: Console) -> int:
    """Tracing ingest, queries over a million spans and the export overhead (--quick: 50,000 spans); recorded as
    tracing-<date>."""
    params = tracing.params_for(quick=args.quick, requests=args.requests)
    return _run_in_workdir(args, console, "tracing", params, tracing.run, tracing)


def run_business_metrics(args: argparse.Namespace, console: Console) -> int:
    """KPI queries against pandas over 30 days of raw predictions, a collection round and reports (--quick: 2 days);
    recorded as business-metrics-<date>."""
    params = business_metrics.params_for(quick=args.quick, requests=args.requests)
    return _run_in_workdir(args, console, "business-metrics", params, business_metrics.run, business_metrics)


SUITES = {
    "foundation": run_foundation,
    "model": run_model,
    "serving": run_serving,
    "gateway": run_gateway,
    "drift": run_drift,
    "control-tower": run_control_tower,
    "data-privacy": run_data_privacy,
    "tracing": run_tracing,
    "business-metrics": run_business_metrics,
}

if __name__ == "__main__":
    sys.exit(main())
