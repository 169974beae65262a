"""The model API against `mlflow models serve`, serving the same registered model on the same machine.

Set-up (not timed): a real MLflow tracking server in a temporary directory, `security-classifier`
trained and registered there exactly as a training job does it (`train_and_register`, the shipped
train files concatenated, the held-out test files for evaluation), then two servers of version 1 on
free loopback ports: ours (`python -m mlsec serve model-api`, warmed through its warm-cache route)
and the anchor, MLflow's own scoring server (`mlflow models serve --env-manager local`), each with
its defaults (one process each).

Measured, side by side in one run:

1. Single-text predictions at concurrency 1 and 16: `POST /predict {"text"}` against
   `POST /invocations {"inputs": [text]}`, cycling through the held-out test texts.
2. Identical answers: every held-out text's label from both servers, and our score against the
   in-process `mlflow.sklearn.load_model(...).predict_proba`.
3. One batch of 1,000 texts: `POST /predict/batch` against the in-process model's `predict_proba`
   (and `predict`), and against MLflow's `/invocations` with the same 1,000 texts.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np
import pandas as pd
import psutil
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from benchmarks import _report
from benchmarks._load import GENERATOR, Variant, compare, json_bodies, worker_sessions
from benchmarks._serve import HOST
from benchmarks._servers import REPO_ROOT, BenchmarkError, free_port
from benchmarks.foundation import Comparison
from mlsec.services.training.service.bootstrap import combine_jsonl

DATA_DIR = REPO_ROOT / "data"
MODEL_NAME = "security-classifier"
MODEL_VERSION = "1"
MODEL_URI = f"models:/{MODEL_NAME}/{MODEL_VERSION}"
ANCHOR_OPTIONS = ("-m", MODEL_URI, "--env-manager", "local", "--host", HOST)
"""`mlflow models serve` as documented for a local model, with its defaults otherwise (one uvicorn worker)."""
OURS = "mlsec model-api"
ANCHOR = "mlflow models serve"
THROUGHPUT_GOAL = 5.0
"""Ours / MLflow req/s at the highest concurrency, with a p99 no worse (ratio at most 1)."""
BATCH_GOAL = 2.0
"""Ours `/predict/batch` of 1,000 texts at most this many times the in-process `predict_proba`."""
SCORE_TOLERANCE = 1e-6
TEXT_ORDER_SEED = 20261123
STARTUP_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 60.0
BATCH_METRIC = "mlsec_serving_batch_size"
BATCHES_METRIC = "mlsec_serving_batches"
CAPTION = "ratio = mlsec / MLflow, same run. CPU: the server's process tree. Ours {text}, MLflow {inputs: [text]}."


@dataclass(frozen=True)
class ServingParams:
    """Everything that shapes a run; recorded with the results."""

    requests: int
    warmup: int
    rounds: int
    concurrency: tuple[int, ...] = (1, 16)
    batch_size: int = 1000
    batch_repetitions: int = 5
    text_order_seed: int = TEXT_ORDER_SEED


# --- processes -----------------------------------------------------------------------------------------


@dataclass
class Server:
    """One server process (and its children), started in a session of its own so the group can be stopped."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_seconds: float = 0.0

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process and every live descendant (MLflow serves from a child)."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, then SIGKILL to it if the leader has not exited in time."""

    def signal_group(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)  # start_new_session: the group id is the leader's pid

    if process.poll() is None:
        signal_group(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            signal_group(signal.SIGKILL)
            process.wait(STOP_TIMEOUT_SECONDS)
    signal_group(signal.SIGKILL)  # children that outlived their leader (the group is gone when none did)


def start_server(
    stack: ExitStack,
    name: str,
    command: list[str],
    env: dict[str, str],
    workdir: Path,
    port: int,
    *,
    cwd: Path | None = None,
) -> Server:
    """Start `command` in its own session, its log in `workdir`; its stop is registered on `stack` before anything
    can fail. It runs in `workdir` too unless `cwd` says otherwise (a `benchmarks` module runs from the repository)."""
    log_path = workdir / f"{name.replace(' ', '-')}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd or workdir,  # not the repository by default: no `.env` of a developer's is read
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack.callback(_stop_group, process)
    return Server(name=name, port=port, process=process, log_path=log_path)


def wait_ready(server: Server, paths: Sequence[str], started: float, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
    """Poll until one of `paths` answers 200; fail with the log's tail if the process exits or time runs out."""
    deadline = started + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise BenchmarkError(f"{server.name} exited with {code}:\n{server.log_tail()}")
            for path in paths:
                try:
                    if client.get(server.url(path)).status_code == 200:
                        server.ready_seconds = round(time.monotonic() - started, 2)
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
    raise BenchmarkError(f"{server.name} not ready after {timeout:.0f} s:\n{server.log_tail()}")


# --- data and model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    """The concatenated train and test files and the held-out texts."""

    train_path: Path
    train_sha256: str
    test_path: Path
    test_sha256: str
    texts: list[str]
    labels: list[int]


def _concatenate(pattern: str, target: Path) -> str:
    """Concatenate the shipped JSONL files matching `pattern` into `target`, as the default model's bootstrap
    does; their SHA-256."""
    files = sorted(DATA_DIR.glob(pattern))
    if not files:
        raise BenchmarkError(f"no {pattern} in {DATA_DIR}")
    return combine_jsonl(files, target).sha256


def prepare_data(workdir: Path) -> Data:
    from mlsec.ml.datasets import load_dataset

    train, test = workdir / "train.jsonl", workdir / "test.jsonl"
    train_sha, test_sha = _concatenate("prompts_*_train.jsonl", train), _concatenate("prompts_*_test.jsonl", test)
    frame = load_dataset(test, fmt="jsonl")
    return Data(train, train_sha, test, test_sha, [str(t) for t in frame["text"]], [int(x) for x in frame["label"]])


class _Outbox:
    """What `train_and_register` reports to; kept for the record."""

    def __init__(self) -> None:
        self.messages: list[tuple[Any, ...]] = []

    def put(self, item: tuple[Any, ...]) -> None:
        self.messages.append(item)


def register_model(data: Data, tracking_uri: str) -> dict[str, Any]:
    """Train and register `security-classifier` in the MLflow server exactly as a training job does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow  # noqa: F401 - imported first so its logger exists and can be quietened

        from mlsec.services.training.service.worker import DatasetRef, JobSpec, train_and_register
    logging.getLogger("mlflow").setLevel(logging.WARNING)

    def ref(name: str, path: Path, sha256: str) -> DatasetRef:
        return DatasetRef(name, 1, str(path), "jsonl", sha256, text_column="text", label_column="label")

    spec = JobSpec(
        job_id="benchmark-serving",
        model_name=MODEL_NAME,
        task="text_classification",
        datasets=[ref("security-prompts-train", data.train_path, data.train_sha256)],
        evaluation=ref("security-prompts-test", data.test_path, data.test_sha256),
        test_size=0.2,
        params={},
        tracking_uri=tracking_uri,
        log_level="WARNING",
    )
    chatter = io.StringIO()  # MLflow prints "Successfully registered ..." and the run's URL
    with warnings.catch_warnings(), contextlib.redirect_stderr(chatter), contextlib.redirect_stdout(chatter):
        warnings.simplefilter("ignore")
        payload = train_and_register(spec, _Outbox())
    if str(payload["model_version"]) != MODEL_VERSION:
        raise BenchmarkError(f"expected version {MODEL_VERSION} in a fresh registry, got {payload['model_version']}")
    return payload


def load_in_process(tracking_uri: str) -> Any:
    """The registered model as a user loads it in their own process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow
        import mlflow.sklearn

        mlflow.set_tracking_uri(tracking_uri)
        return mlflow.sklearn.load_model(MODEL_URI)


# --- the stack --------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Everything the measurements need, live."""

    tracking_uri: str
    ours: Server
    anchor: Server
    data: Data
    setup: dict[str, Any] = field(default_factory=dict)


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment (already isolated by the runner) plus `extra`, for a server child."""
    return {**os.environ, **extra}


def start_mlflow(stack: ExitStack, workdir: Path) -> Server:
    """The real MLflow tracking server as `mlsec up` starts it, its store in `workdir`, ready; stopped by `stack`."""
    from mlsec.core.settings import Settings
    from mlsec.launcher.supervisor import mlflow_command

    port = free_port()
    settings = Settings(_env_file=None, home=workdir / "mlflow-home", mlflow_port=port)
    started = time.monotonic()
    env = child_env(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    server = start_server(stack, "mlflow server", mlflow_command(settings), env, workdir, port)
    wait_ready(server, ["/health"], started)
    return server


def start_registry(stack: ExitStack, workdir: Path, console: Console, setup: dict[str, Any]) -> tuple[str, Data]:
    """A real MLflow server in `workdir` with `security-classifier` trained and registered in it.

    Returns its tracking URI and the data it was trained on; the server's stop is on `stack`, and the
    set-up timings and held-out metrics go into `setup`. Shared by every suite that serves the model.
    """
    data = prepare_data(workdir)
    tracking = start_mlflow(stack, workdir)
    tracking_uri = tracking.url("")
    setup["mlflow_server_ready_s"] = tracking.ready_seconds
    console.log(f"MLflow server live on :{tracking.port} after {tracking.ready_seconds:.0f} s; training ...")

    started = time.monotonic()
    payload = register_model(data, tracking_uri)
    setup["register_s"] = round(time.monotonic() - started, 1)
    setup["held_out_metrics"] = {
        k: round(float(v), 4) for k, v in payload["metrics"].items() if k in ("f1", "roc_auc", "threshold")
    }
    console.log(f"{MODEL_URI} registered in {setup['register_s']:.0f} s")
    return tracking_uri, data


def start_model_api(stack: ExitStack, workdir: Path, tracking_uri: str, port: int) -> Server:
    """Our model API as a user starts it (`python -m mlsec serve model-api`), defaults otherwise; not yet ready."""
    return start_server(
        stack,
        OURS,
        [sys.executable, "-m", "mlsec", "serve", "model-api"],
        child_env(
            MLSEC_HOME=str(workdir / "home"),
            MLFLOW_TRACKING_URI=tracking_uri,
            MLSEC_MODEL_API_PORT=str(port),
            MLSEC_MODEL_API_DEFAULT_MODEL=MODEL_NAME,
            LOG_LEVEL="WARNING",
        ),
        workdir,
        port,
    )


def warm_model_api(ours: Server, setup: dict[str, Any]) -> None:
    """Load the model through the warm-cache route, so no measured request pays for loading it."""
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        response = client.post(ours.url(f"/models/warm-cache/{MODEL_NAME}"))
    if response.status_code != 200:
        raise BenchmarkError(f"warm-cache answered {response.status_code}: {response.text[:300]}\n{ours.log_tail()}")
    setup["ours_warm_cache"] = response.json()


@contextmanager
def serving_stack(workdir: Path, console: Console) -> Iterator[Stack]:
    """MLflow with the model registered, ours and the anchor serving it; every process stopped on the way out."""
    setup: dict[str, Any] = {}
    with ExitStack() as stack:
        tracking_uri, data = start_registry(stack, workdir, console, setup)
        console.log("starting both servers ...")
        ours_port, anchor_port = free_port(), free_port()
        started = time.monotonic()
        ours = start_model_api(stack, workdir, tracking_uri, ours_port)
        venv_bin = str(Path(sys.executable).parent)  # `mlflow models serve` runs `uvicorn` from PATH
        anchor = start_server(
            stack,
            ANCHOR,
            [sys.executable, "-m", "mlflow", "models", "serve", *ANCHOR_OPTIONS, "-p", f"{anchor_port}"],
            child_env(MLFLOW_TRACKING_URI=tracking_uri, PATH=os.pathsep.join([venv_bin, os.environ.get("PATH", "")])),
            workdir,
            anchor_port,
        )
        wait_ready(ours, ["/health/live"], started)
        wait_ready(anchor, ["/ping", "/health"], started)
        warm_model_api(ours, setup)
        setup["ours_ready_s"], setup["anchor_ready_s"] = ours.ready_seconds, anchor.ready_seconds
        console.log(
            f"servers live: ours on :{ours_port} ({ours.ready_seconds:.0f} s, model loaded in "
            f"{setup['ours_warm_cache'].get('load_ms', 0) / 1000:.1f} s), MLflow on :{anchor_port} "
            f"({anchor.ready_seconds:.0f} s)"
        )
        yield Stack(tracking_uri=tracking_uri, ours=ours, anchor=anchor, data=data, setup=setup)


# --- 1. single-text predictions ---------------------------------------------------------------------------


def load_order(texts: Sequence[str], seed: int) -> list[str]:
    """The texts in the fixed shuffled order every load test sends them in (see `single_predictions`)."""
    return random.Random(seed).sample(list(texts), len(texts))


def worker_clients(
    concurrency: int, headers: dict[str, str] | None = None
) -> AbstractAsyncContextManager[list[aiohttp.ClientSession]]:
    """The load generator's per-worker sessions (see `_load.worker_sessions`) with this suite's timeout."""
    return worker_sessions(concurrency, timeout_seconds=REQUEST_TIMEOUT_SECONDS, headers=headers)


def _batching_counters(client: httpx.Client, server: Server) -> dict[str, float]:
    """Our micro-batcher's counters from /metrics: items, model calls, calls by release reason."""
    from prometheus_client.parser import text_string_to_metric_families

    counters: dict[str, float] = {}
    text = client.get(server.url("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{BATCH_METRIC}_sum":
                counters["items"] = counters.get("items", 0.0) + sample.value
            elif sample.name == f"{BATCH_METRIC}_count":
                counters["calls"] = counters.get("calls", 0.0) + sample.value
            elif sample.name == f"{BATCHES_METRIC}_total":
                key = f"calls_{sample.labels.get('reason', '?')}"
                counters[key] = counters.get(key, 0.0) + sample.value
    return counters


def _difference(after: dict[str, float], before: dict[str, float]) -> dict[str, Any]:
    delta = {key: after[key] - before.get(key, 0.0) for key in after}
    delta = {key: int(value) for key, value in delta.items() if value}
    calls = delta.get("calls", 0)
    return {**delta, "mean_batch": round(delta.get("items", 0) / calls, 2) if calls else None}


async def single_predictions(
    stack: Stack, params: ServingParams, console: Console
) -> tuple[list[Comparison], dict[str, Any]]:
    """Both servers under the same closed-loop load of single-text requests, at each concurrency.

    The texts go in a fixed shuffled order: the test files put the short texts first and the long jailbreaks
    last, so in file order a short run (`--quick`) would see short texts only and flatter batching.
    """
    texts = load_order(stack.data.texts, params.text_order_seed)
    comparisons: list[Comparison] = []
    batching: dict[str, Any] = {}
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as metrics_client:
        for concurrency in params.concurrency:
            console.log(f"single predictions at concurrency {concurrency}: {params.requests} requests each ...")
            before = _batching_counters(metrics_client, stack.ours)
            async with worker_clients(concurrency) as anchor_clients, worker_clients(concurrency) as our_clients:
                stats = await compare(
                    [
                        Variant(
                            ANCHOR,
                            anchor_clients,
                            stack.anchor.url("/invocations"),
                            stack.anchor.cpu_seconds,
                            json_bodies({"inputs": [text]} for text in texts),
                        ),
                        Variant(
                            OURS,
                            our_clients,
                            stack.ours.url("/predict"),
                            stack.ours.cpu_seconds,
                            json_bodies({"text": text} for text in texts),
                        ),
                    ],
                    requests=params.requests,
                    warmup=params.warmup,
                    rounds=params.rounds,
                    concurrency=concurrency,
                )
            batching[str(concurrency)] = _difference(_batching_counters(metrics_client, stack.ours), before)
            comparisons.append(
                Comparison(
                    benchmark="single predictions",
                    case="predict 1 text",
                    concurrency=concurrency,
                    cpu_of="server process tree",
                    baseline_name=ANCHOR,
                    subject_name=OURS,
                    baseline=stats[ANCHOR],
                    subject=stats[OURS],
                )
            )
    return comparisons, batching


# --- 2. identical predictions -----------------------------------------------------------------------------


def _post(client: httpx.Client, url: str, payload: Any) -> Any:
    response = client.post(url, json=payload)
    if response.status_code != 200:
        raise BenchmarkError(f"POST {url} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def _mlflow_labels(answer: Any) -> list[Any]:
    predictions = answer["predictions"] if isinstance(answer, dict) else answer
    return [p[0] if isinstance(p, list) and len(p) == 1 else p for p in predictions]


async def _ours_one_by_one(stack: Stack) -> list[Any]:
    """Every held-out text through `/predict`, 16 at a time (so micro-batches form), in order."""
    texts = stack.data.texts
    labels: list[Any] = [None] * len(texts)
    queue = iter(range(len(texts)))
    async with worker_clients(16) as clients:

        async def worker(client: aiohttp.ClientSession) -> None:
            for index in queue:
                async with client.post(stack.ours.url("/predict"), json={"text": texts[index]}) as response:
                    if response.status != 200:
                        raise BenchmarkError(f"/predict answered {response.status}: {(await response.text())[:300]}")
                    labels[index] = (await response.json())["label"]

        await asyncio.gather(*(worker(client) for client in clients))
    return labels


def _mismatches(left: Sequence[Any], right: Sequence[Any]) -> int:
    return sum(1 for a, b in zip(left, right, strict=True) if a != b)


def identical_predictions(stack: Stack, model: Any, console: Console) -> dict[str, Any]:
    """Labels: ours (batch, and one by one) against MLflow's server; scores: ours against in-process predict_proba."""
    texts = stack.data.texts
    console.log(f"identical predictions: {len(texts)} held-out texts through both servers and in process ...")
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        ours = _post(client, stack.ours.url("/predict/batch"), {"texts": texts})["predictions"]
        anchor = _mlflow_labels(_post(client, stack.anchor.url("/invocations"), {"inputs": texts}))
    one_by_one = asyncio.run(_ours_one_by_one(stack))
    frame = pd.DataFrame({"text": texts})
    proba = np.asarray(model.predict_proba(frame), dtype=np.float64)[:, 1]
    in_process_labels = [label.item() if isinstance(label, np.generic) else label for label in model.predict(frame)]
    ours_labels = [p["label"] for p in ours]
    ours_scores = np.asarray([p["score"] for p in ours], dtype=np.float64)
    differences = np.abs(ours_scores - proba)
    result = {
        "texts": len(texts),
        "label_mismatches_vs_mlflow_server": _mismatches(ours_labels, anchor),
        "label_mismatches_vs_in_process_predict": _mismatches(ours_labels, in_process_labels),
        "label_mismatches_single_vs_batch": _mismatches(one_by_one, ours_labels),
        "max_score_difference": float(differences.max()),
        "scores_over_tolerance": int((differences > SCORE_TOLERANCE).sum()),
        "tolerance": SCORE_TOLERANCE,
    }
    result["met"] = (
        result["label_mismatches_vs_mlflow_server"] == 0
        and result["label_mismatches_single_vs_batch"] == 0
        and result["max_score_difference"] <= SCORE_TOLERANCE
    )
    return result


# --- 3. one batch of 1,000 texts --------------------------------------------------------------------------


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def one_batch(stack: Stack, model: Any, params: ServingParams, console: Console) -> dict[str, Any]:
    """The same 1,000 texts through `/predict/batch`, MLflow's `/invocations` and the in-process model, each
    `batch_repetitions` times after one unmeasured call, interleaved; medians."""
    texts = stack.data.texts
    batch = [texts[i % len(texts)] for i in range(params.batch_size)]
    frame = pd.DataFrame({"text": batch})
    ours_body = json.dumps({"texts": batch}).encode()
    anchor_body = json.dumps({"inputs": batch}).encode()
    headers = {"Content-Type": "application/json"}
    console.log(f"batch of {params.batch_size} texts: {params.batch_repetitions} repetitions of each ...")
    timings: dict[str, list[float]] = {"ours": [], "anchor": [], "predict_proba": [], "predict": []}
    server_ms: list[float] = []
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:

        def ours() -> None:
            response = client.post(stack.ours.url("/predict/batch"), content=ours_body, headers=headers)
            if response.status_code != 200:
                raise BenchmarkError(f"/predict/batch answered {response.status_code}: {response.text[:300]}")
            server_ms.append(float(response.json()["latency_ms"]))

        def anchor() -> None:
            response = client.post(stack.anchor.url("/invocations"), content=anchor_body, headers=headers)
            if response.status_code != 200:
                raise BenchmarkError(f"/invocations answered {response.status_code}: {response.text[:300]}")

        calls: dict[str, Callable[[], object]] = {
            "ours": ours,
            "anchor": anchor,
            "predict_proba": lambda: model.predict_proba(frame),
            "predict": lambda: model.predict(frame),
        }
        for call in calls.values():  # unmeasured: connections, caches
            call()
        server_ms.clear()
        for repetition in range(params.batch_repetitions):
            order = list(calls.items()) if repetition % 2 == 0 else list(calls.items())[::-1]
            for name, call in order:
                started = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - started)
    medians = {name: _median_ms(samples) for name, samples in timings.items()}
    ratio_proba = medians["ours"] / medians["predict_proba"]
    return {
        "texts": params.batch_size,
        "repetitions": params.batch_repetitions,
        "median_ms": medians,
        "ours_server_latency_ms_median": round(statistics.median(server_ms), 2),
        "all_ms": {name: [round(s * 1000, 2) for s in samples] for name, samples in timings.items()},
        "ratio_vs_predict_proba": round(ratio_proba, 3),
        "ratio_vs_predict": round(medians["ours"] / medians["predict"], 3),
        "ratio_vs_mlflow_server": round(medians["ours"] / medians["anchor"], 3),
        "goal": BATCH_GOAL,
        "met": ratio_proba <= BATCH_GOAL,
    }


# --- the run ----------------------------------------------------------------------------------------------


def throughput_verdict(comparisons: list[Comparison]) -> dict[str, Any]:
    busiest = max(comparisons, key=lambda c: c.concurrency)
    met = busiest.rps_ratio >= THROUGHPUT_GOAL and busiest.p99_ratio <= 1.0
    return {
        "concurrency": busiest.concurrency,
        "rps_ratio": round(busiest.rps_ratio, 3),
        "p99_ratio": round(busiest.p99_ratio, 3),
        "goal": f"req/s ratio >= {THROUGHPUT_GOAL:g} and p99 ratio <= 1",
        "met": met,
    }


def run(workdir: Path, params: ServingParams, console: Console) -> dict[str, Any]:
    """Set up, measure all three, tear down; the figures as a JSON-ready dict (comparisons as objects)."""
    with serving_stack(workdir, console) as stack:
        comparisons, batching = asyncio.run(single_predictions(stack, params, console))
        model = load_in_process(stack.tracking_uri)
        identity = identical_predictions(stack, model, console)
        batch = one_batch(stack, model, params, console)
        setup = stack.setup
    return {
        "setup": setup,
        "comparisons": comparisons,
        "micro_batching": batching,
        "identity": identity,
        "batch": batch,
        "verdicts": {
            "throughput": throughput_verdict(comparisons),
            "identical_predictions": identity["met"],
            "batch": batch["met"],
        },
    }


# --- reporting --------------------------------------------------------------------------------------------


def verdict_lines(figures: dict[str, Any]) -> list[str]:
    throughput, identity, batch = figures["verdicts"]["throughput"], figures["identity"], figures["batch"]
    word = _report.verdict_word
    return [
        f"Throughput goal ({throughput['goal']} at concurrency {throughput['concurrency']}): "
        f"{word(throughput['met'])}: req/s ratio {throughput['rps_ratio']:.2f}, "
        f"p99 ratio {throughput['p99_ratio']:.2f}.",
        f"Identical predictions: {word(identity['met'])}: {identity['label_mismatches_vs_mlflow_server']} label "
        f"mismatches with MLflow's server of {identity['texts']} held-out texts, "
        f"{identity['label_mismatches_single_vs_batch']} between our /predict and /predict/batch, "
        f"max |score - predict_proba| {identity['max_score_difference']:.2e} (tolerance {SCORE_TOLERANCE:g}).",
        f"Batch goal (/predict/batch of {batch['texts']:,} at most {BATCH_GOAL:g}x in-process predict_proba): "
        f"{word(batch['met'])}: {batch['ratio_vs_predict_proba']:.2f}x "
        f"({batch['median_ms']['ours']:.0f} ms against {batch['median_ms']['predict_proba']:.0f} ms).",
    ]


BATCH_COLUMNS = ("call", "ms", "mlsec / this")
BATCH_ROWS = (
    ("ours", "mlsec POST /predict/batch"),
    ("anchor", "MLflow POST /invocations"),
    ("predict_proba", "in process: predict_proba"),
    ("predict", "in process: predict"),
)


def _batch_cells(batch: dict[str, Any]) -> list[list[str]]:
    ours = batch["median_ms"]["ours"]
    return [
        [label, f"{batch['median_ms'][key]:,.0f}", f"{ours / batch['median_ms'][key]:.2f}"] for key, label in BATCH_ROWS
    ]


def rich_tables(figures: dict[str, Any]) -> list[Table]:
    load = _report.rich_table(
        figures["comparisons"], title="Serving: mlsec model API against mlflow models serve", caption=escape(CAPTION)
    )
    batch = figures["batch"]
    table = _report.cells_table(
        f"One batch of {batch['texts']:,} texts (median of {batch['repetitions']})",
        BATCH_COLUMNS,
        _batch_cells(batch),
        caption=f"our server's own latency_ms: {batch['ours_server_latency_ms_median']:,.0f} ms",
    )
    return [load, table, _report.verdict_table(verdict_lines(figures))]


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    """The record with the comparisons as plain data, ratios included."""
    comparisons = [
        {**asdict(c), "ratios": {"rps": c.rps_ratio, "p99": c.p99_ratio, "cpu": c.cpu_ratio}}
        for c in record["comparisons"]
    ]
    return {**record, "comparisons": comparisons}


def markdown(record: dict[str, Any]) -> str:
    p, setup = record["parameters"], record["setup"]
    batch = record["batch"]
    batching = "; ".join(
        f"concurrency {c}: {b.get('items', 0):,} items in {b.get('calls', 0):,} model calls (mean {b['mean_batch']})"
        for c, b in record["micro_batching"].items()
    )
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    return f"""# Serving benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- Model: `{MODEL_URI}` trained by `train_and_register` on the shipped train files, held-out F1 \
{setup["held_out_metrics"].get("f1", float("nan")):.4f}; both servers with their defaults (one process each).
- Parameters: {p["requests"]} requests per variant and cell in {p["rounds"]} interleaved rounds after \
{p["warmup"]} warm-up requests, concurrency {", ".join(map(str, p["concurrency"]))}, closed loop, {GENERATOR}; \
batch of {p["batch_size"]} texts, median of {p["batch_repetitions"]}.
- Run time: {record["duration_s"]:.0f} s (set-up: MLflow {setup["mlflow_server_ready_s"]:.0f} s, training and \
registration {setup["register_s"]:.0f} s, servers ready after {setup["ours_ready_s"]:.0f} s (ours) and \
{setup["anchor_ready_s"]:.0f} s (MLflow)).

## Single-text predictions

{_report.markdown_table(record["comparisons"])}

Ratios are mlsec / MLflow: req/s above 1 and p99 or CPU below 1 mean mlsec does better. CPU µs/req is the
server's whole process tree. Our micro-batcher during each cell (warm-up included): {batching}.

## One batch of {batch["texts"]:,} texts (median ms of {batch["repetitions"]})

{_report.markdown_cells(BATCH_COLUMNS, _batch_cells(batch))}

Our server's own `latency_ms` for the batch (the engine, without HTTP and JSON): \
{batch["ours_server_latency_ms_median"]:,.0f} ms.

## Verdicts

{verdicts}

See `benchmarks/README.md` for what each figure measures.
"""
