"""The control tower against MLflow's own API, on the same registry of 200 models x 5 versions.

Set-up (timed, but not judged): a real MLflow tracking server in a temporary directory, started as `mlsec up`
starts it, and a registry built in it through `mlflow.MlflowClient`: 200 models (one experiment each) of 5
versions, each version from its own finished run with 4 to 6 metrics, `champion` on version 5 and `challenger` on
version 4. Then the control tower as a user starts it (`python -m mlsec serve control-tower`, its own
`MLSEC_HOME`, defaults otherwise), ready once its first full read of MLflow is done.

Measured, in one run:

1. Sequential reads (one caller, keep-alive): the control tower's `/models/all`, `/model/{name}/versions` and
   `/dashboard/summary`, against the same views read from MLflow: all registered models with their versions
   (`registered-models/search` + `model-versions/search`, over REST and through the `mlflow` client's
   `search_registered_models` + `search_model_versions`) and one model's versions (`model-versions/search`
   with `name='...'`, both ways). p50/p95/p99; the ratio MLflow p50 / control tower p50.
2. Restart with MLflow stopped: a fresh control-tower process on the same `MLSEC_HOME`, from its start until its
   first `/models/all` equal to the answer before the restart (from the snapshot file alone); beside it, a cold
   start with MLflow up and no file (persistence off), which has to read MLflow first.
3. Refreshes: a full one (`POST /cache/refresh`, and the `last_refresh_seconds` it reports), and the one an
   event triggers (`RegistryCache.refresh_model`, called in process on an app built by `create_app`).

The suite sends no predictions, so it has no traffic to mark `synthetic`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import logging
import random
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from rich.console import Console
from rich.table import Table

from benchmarks import _report
from benchmarks._load import worker_sessions
from benchmarks._servers import BenchmarkError, free_port
from benchmarks.serving import Server, _stop_group, child_env, start_mlflow, start_server

MODELS = 200
QUICK_MODELS = 40
VERSIONS_PER_MODEL = 5
TOWER_REQUESTS = 1000
QUICK_TOWER_REQUESTS = 200
LATENCY_GOAL_MS = 2.0
"""The control tower's p50 for each view, at most."""
RESTART_GOAL_SECONDS = 1.0
"""From the process's start to its first correct `/models/all`, MLflow stopped, at most."""
PREVIOUS_MLFLOW_MS = {"one model": 12.0, "all models": 167.0}
"""MLflow's p50s stated in the issue that set the goal, for reference."""
METRIC_NAMES = ("accuracy", "precision", "recall", "f1_score", "roc_auc", "log_loss")
NAME_ORDER_SEED = 20261205
REQUEST_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.005
STARTUP_TIMEOUT_SECONDS = 120.0
API = "/api/2.0/mlflow"
OURS = "mlsec control tower"
OURS_HTTPX = "mlsec control tower (httpx)"
"""The same requests sent with a keep-alive `httpx.AsyncClient`: what the client library adds to the answer's time."""
MLFLOW_REST = "MLflow REST"
MLFLOW_CLIENT = "mlflow.MlflowClient"
SEED_VARIABLES = (
    "ENABLE_CACHE",
    "CACHE_REFRESH_INTERVAL_MINUTES",
    "CACHE_TIMEOUT_SECONDS",
    "MAX_MODELS_RETURNED",
    "ENABLE_CACHE_PERSISTENCE",
    "CACHE_DIRECTORY",
    "CACHE_MAX_AGE_HOURS",
    "ENABLE_DEBUG_ENDPOINTS",
    "ENABLE_MOCK_DATA",
    "SERVICE_HOST",
)
"""Seed 004's variable names, which the control tower honours without a prefix: dropped from its environment."""


@dataclass(frozen=True)
class ControlTowerParams:
    """Everything that shapes a run; recorded with the results."""

    models: int
    versions_per_model: int
    tower_requests: int
    mlflow_one_model_requests: int
    mlflow_all_models_requests: int
    rounds: int
    warmup_fraction: float = 0.1
    registration_threads: int = 8
    full_refreshes: int = 5
    model_refreshes: int = 20
    restarts: int = 3
    name_order_seed: int = NAME_ORDER_SEED


def params_for(requests: int | None, rounds: int, *, quick: bool) -> ControlTowerParams:
    """The suite's parameters: `requests` sets the control tower's per view; MLflow's views get a third and a
    tenth of it (an MLflow read of all models costs a hundred times more), never under 20."""
    tower = requests or (QUICK_TOWER_REQUESTS if quick else TOWER_REQUESTS)
    return ControlTowerParams(
        models=QUICK_MODELS if quick else MODELS,
        versions_per_model=VERSIONS_PER_MODEL,
        tower_requests=tower,
        mlflow_one_model_requests=max(20, tower // 3),
        mlflow_all_models_requests=max(20, tower // 10),
        rounds=rounds,
        full_refreshes=2 if quick else 5,
        model_refreshes=5 if quick else 20,
        restarts=1 if quick else 3,
    )


def model_name(index: int) -> str:
    return f"bench-model-{index:03d}"


# --- 1. the registry ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What was registered: each model's versions' metrics, and where the aliases are."""

    metrics: dict[tuple[str, str], dict[str, float]]
    names: list[str]
    versions_per_model: int

    @property
    def versions(self) -> int:
        return len(self.metrics)


def _metrics(index: int, version: int) -> dict[str, float]:
    """4 to 6 metrics, different for every version, reproducible."""
    count = 4 + (index + version) % 3
    return {
        name: round(0.70 + ((index * 7 + version * 13 + position * 5) % 29) / 100, 4)
        for position, name in enumerate(METRIC_NAMES[:count])
    }


def build_registry(tracking_uri: str, params: ControlTowerParams, console: Console) -> tuple[Expected, dict[str, Any]]:
    """Register every model and version through `mlflow.MlflowClient`, models in parallel (a thread pool), each
    model's versions in order so version n is the n-th run; the time it took and the calls it made."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "client"):
            local.client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
        return local.client

    def register(index: int) -> dict[tuple[str, str], dict[str, float]]:
        mlflow = client()
        name = model_name(index)
        experiment_id = mlflow.create_experiment(f"{name}-training")
        mlflow.create_registered_model(name, tags={"team": f"team-{index % 7}"}, description=f"{name}, benchmark")
        registered: dict[tuple[str, str], dict[str, float]] = {}
        for version in range(1, params.versions_per_model + 1):
            metrics = _metrics(index, version)
            stamp = int(time.time() * 1000)
            run = mlflow.create_run(experiment_id, start_time=stamp, tags={"mlflow.runName": f"{name}-v{version}"})
            run_id = run.info.run_id
            mlflow.log_batch(
                run_id,
                metrics=[Metric(key, value, stamp, 0) for key, value in metrics.items()],
                params=[Param("learning_rate", "0.001"), Param("epochs", str(10 * version))],
            )
            mlflow.set_terminated(run_id)
            made = mlflow.create_model_version(
                name, source=f"runs:/{run_id}/model", run_id=run_id, description=f"{name} build {version}"
            )
            if str(made.version) != str(version):
                raise BenchmarkError(f"{name}: expected version {version}, MLflow made {made.version}")
            registered[(name, str(version))] = metrics
        mlflow.set_registered_model_alias(name, "champion", str(params.versions_per_model))
        mlflow.set_registered_model_alias(name, "challenger", str(params.versions_per_model - 1))
        return registered

    console.log(
        f"registering {params.models} models x {params.versions_per_model} versions "
        f"({params.registration_threads} threads) ..."
    )
    started = time.monotonic()
    chatter = io.StringIO()  # MLflow prints each run's and experiment's URL when a run ends
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(chatter),
        contextlib.redirect_stderr(chatter),
        ThreadPoolExecutor(params.registration_threads) as pool,
    ):
        warnings.simplefilter("ignore")
        done = list(pool.map(register, range(params.models)))
    seconds = round(time.monotonic() - started, 1)
    metrics = {key: value for part in done for key, value in part.items()}
    calls = params.models * (2 + 4 * params.versions_per_model + 2)
    console.log(f"registry built in {seconds:.0f} s ({calls:,} MLflow calls)")
    expected = Expected(metrics, [model_name(i) for i in range(params.models)], params.versions_per_model)
    return expected, {
        "models": params.models,
        "versions": len(metrics),
        "runs": len(metrics),
        "metrics_logged": sum(len(m) for m in metrics.values()),
        "mlflow_calls": calls,
        "threads": params.registration_threads,
        "seconds": seconds,
        "calls_per_second": round(calls / seconds, 1) if seconds else None,
    }


# --- the processes ------------------------------------------------------------------------------------------


@dataclass
class TowerStack:
    """MLflow and the control tower, live; what was registered."""

    workdir: Path
    tracking_uri: str
    mlflow: Server
    tower: Server
    expected: Expected
    setup: dict[str, Any] = field(default_factory=dict)


def tower_env(home: Path, tracking_uri: str, **extra: str) -> dict[str, str]:
    """The control tower's environment as a user's shell would give it: its home and MLflow, logs at WARNING,
    seed 004's unprefixed variables left out (the runner already dropped MLSEC_*, MLFLOW_*, ...)."""
    env = child_env(
        MLSEC_HOME=str(home), MLFLOW_TRACKING_URI=tracking_uri, MLSEC_HOST="127.0.0.1", LOG_LEVEL="WARNING", **extra
    )
    for name in SEED_VARIABLES:
        env.pop(name, None)
    return env


def start_tower(stack: ExitStack, workdir: Path, name: str, env: dict[str, str]) -> Server:
    """`python -m mlsec serve control-tower` on a free port; not yet ready."""
    port = free_port()
    command = [sys.executable, "-m", "mlsec", "serve", "control-tower", "--port", str(port)]
    return start_server(stack, name, command, env, workdir, port)


def wait_registry_read(server: Server, started: float) -> dict[str, Any]:
    """Until the first full read of MLflow is done (`/health/ready` ready, nothing pending); its readiness."""
    deadline = started + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchmarkError(f"{server.name} exited:\n{server.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                ready = client.get(server.url("/health/ready")).json()
                if ready.get("status") == "ready" and not ready.get("pending"):
                    server.ready_seconds = round(time.monotonic() - started, 2)
                    return dict(ready)
            time.sleep(0.05)
    raise BenchmarkError(f"{server.name}: first read of MLflow not done after {STARTUP_TIMEOUT_SECONDS:.0f} s")


@contextmanager
def tower_stack(workdir: Path, params: ControlTowerParams, console: Console) -> Iterator[TowerStack]:
    """MLflow with the registry built, the control tower reading it; every process stopped on the way out."""
    setup: dict[str, Any] = {}
    with ExitStack() as stack:
        mlflow = start_mlflow(stack, workdir)
        tracking_uri = mlflow.url("")
        setup["mlflow_server_ready_s"] = mlflow.ready_seconds
        console.log(f"MLflow server live on :{mlflow.port} after {mlflow.ready_seconds:.0f} s")
        expected, setup["registry"] = build_registry(tracking_uri, params, console)

        started = time.monotonic()
        tower = start_tower(stack, workdir, OURS, tower_env(workdir / "tower-home", tracking_uri))
        wait_registry_read(tower, started)
        setup["tower_ready_s"] = tower.ready_seconds
        console.log(f"control tower on :{tower.port} has read MLflow after {tower.ready_seconds:.1f} s")
        yield TowerStack(workdir, tracking_uri, mlflow, tower, expected, setup)


# --- answers ------------------------------------------------------------------------------------------------


def _get_json(client: httpx.Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise BenchmarkError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def _mlflow_all_rest(client: httpx.Client, tracking_uri: str) -> tuple[list[Any], list[Any]]:
    """Every registered model and every version, over REST, following page tokens."""
    found: dict[str, list[Any]] = {}
    for path, field_name, page_size in (
        ("registered-models/search", "registered_models", 1000),
        ("model-versions/search", "model_versions", 10_000),
    ):
        items: list[Any] = []
        token: str | None = None
        while True:
            query: dict[str, Any] = {"max_results": page_size} | ({"page_token": token} if token else {})
            page = _get_json(client, f"{tracking_uri}{API}/{path}?{urlencode(query)}")
            items += page.get(field_name, [])
            token = page.get("next_page_token") or None
            if token is None:
                break
        found[field_name] = items
    return found["registered_models"], found["model_versions"]


def check_answers(stack: TowerStack) -> dict[str, Any]:
    """Before anything is timed: every view of both sides holds what was registered."""
    expected = stack.expected
    problems: list[str] = []
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        everything = _get_json(client, stack.tower.url("/models/all"))
        seen = {(i["name"], i["version"]): i for i in everything}
        if set(seen) != set(expected.metrics):
            problems.append(f"/models/all holds {len(seen)} versions, {len(expected.metrics)} were registered")
        top, second = str(expected.versions_per_model), str(expected.versions_per_model - 1)
        for key, metrics in expected.metrics.items():
            info = seen.get(key)
            if info is None:
                continue
            if info["metrics"] != metrics:
                problems.append(f"{key}: metrics {info['metrics']} != {metrics}")
            aliases = {top: ["champion"], second: ["challenger"]}.get(key[1], [])
            stage = {top: "Production", second: "Staging"}.get(key[1], "None")
            if info["aliases"] != aliases or info["stage"] != stage:
                problems.append(f"{key}: aliases {info['aliases']} stage {info['stage']}")
        name = expected.names[0]
        versions = _get_json(client, stack.tower.url(f"/model/{name}/versions"))
        if [v["version"] for v in versions] != [str(n) for n in range(expected.versions_per_model, 0, -1)]:
            problems.append(f"/model/{name}/versions: {[v['version'] for v in versions]}")
        summary = _get_json(client, stack.tower.url("/dashboard/summary"))
        if summary["total_models"] != expected.versions or summary["registered_models"] != len(expected.names):
            problems.append(f"/dashboard/summary: {summary}")
        models, all_versions = _mlflow_all_rest(client, stack.tracking_uri)
        if len(models) != len(expected.names) or len(all_versions) != expected.versions:
            problems.append(f"MLflow REST: {len(models)} models, {len(all_versions)} versions")
        one = _get_json(client, f"{stack.tracking_uri}{API}/model-versions/search?{_name_filter(name)}")
        if len(one.get("model_versions", [])) != expected.versions_per_model:
            problems.append(f"MLflow REST, {name}: {len(one.get('model_versions', []))} versions")
    return {
        "versions_in_models_all": len(everything),
        "models_all_bytes": len(json.dumps(everything)),
        "dashboard_summary": summary,
        "problems": problems[:20],
        "met": not problems,
    }


# --- 2. sequential reads ------------------------------------------------------------------------------------

Call = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Latency:
    """One variant of one view: how many sequential requests and their latency percentiles (ms)."""

    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float


def summarise(samples: list[float]) -> Latency:
    if len(samples) < 2:
        raise BenchmarkError("too few requests to summarise")
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return Latency(
        requests=len(samples),
        p50_ms=round(cuts[49] * 1000, 3),
        p95_ms=round(cuts[94] * 1000, 3),
        p99_ms=round(cuts[98] * 1000, 3),
        mean_ms=round(statistics.fmean(samples) * 1000, 3),
    )


async def _read(session: aiohttp.ClientSession, url: str) -> bytes:
    """One GET, the whole body read (not parsed: what the server costs, not the client's JSON decoder)."""
    async with session.get(url) as response:
        body = await response.read()
        if response.status != 200:
            raise BenchmarkError(f"GET {url} answered {response.status}: {body[:300]!r}")
        return body


async def measure(calls: dict[str, tuple[Call, int]], *, rounds: int, warmup_fraction: float) -> dict[str, list[float]]:
    """Each call's `count` sequential requests in `rounds` rounds, variants interleaved in alternating order,
    after `warmup_fraction` of them unmeasured (connections, caches); every latency (s)."""
    for call, count in calls.values():
        for _ in range(max(5, int(count * warmup_fraction))):
            await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            call, count = calls[name]
            share = count // rounds + (1 if index < count % rounds else 0)
            for _ in range(share):
                started = time.perf_counter()
                await call()
                samples[name].append(time.perf_counter() - started)
    return samples


def _name_filter(name: str) -> str:
    return urlencode({"filter": f"name='{name}'"})


def _mlflow_client(tracking_uri: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow import MlflowClient
    return MlflowClient(tracking_uri, registry_uri=tracking_uri)


async def sequential_reads(stack: TowerStack, params: ControlTowerParams, console: Console) -> dict[str, Any]:
    """The three views, one request at a time, each side with its own keep-alive connection."""
    names = random.Random(params.name_order_seed).sample(stack.expected.names, len(stack.expected.names))
    mlflow_client = _mlflow_client(stack.tracking_uri)
    base = stack.tracking_uri
    results: dict[str, Any] = {}
    async with (
        worker_sessions(1, timeout_seconds=REQUEST_TIMEOUT_SECONDS) as (ours,),
        worker_sessions(1, timeout_seconds=REQUEST_TIMEOUT_SECONDS) as (rest,),
    ):
        ours_httpx = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False)

        def with_httpx(make_url: Callable[[str], str]) -> Call:
            order = itertools.cycle(names)

            async def call() -> None:
                url = make_url(next(order))
                response = await ours_httpx.get(url)
                if response.status_code != 200:
                    raise BenchmarkError(f"GET {url} answered {response.status_code}: {response.text[:300]}")

            return call

        def cycling(make_url: Callable[[str], str], session: aiohttp.ClientSession) -> Call:
            order = itertools.cycle(names)

            async def call() -> None:
                await _read(session, make_url(next(order)))

            return call

        async def tower_all() -> None:
            await _read(ours, stack.tower.url("/models/all"))

        async def tower_summary() -> None:
            await _read(ours, stack.tower.url("/dashboard/summary"))

        async def rest_all() -> None:
            for path, page_size in (("registered-models/search", 1000), ("model-versions/search", 10_000)):
                url = f"{base}{API}/{path}?max_results={page_size}"
                body = await _read(rest, url)
                while b'"next_page_token"' in body:  # one page holds all here; followed if not
                    token = json.loads(body)["next_page_token"]
                    body = await _read(rest, f"{url}&{urlencode({'page_token': token})}")

        async def client_all() -> None:
            for search, page_size in (
                (mlflow_client.search_registered_models, 1000),
                (mlflow_client.search_model_versions, 10_000),
            ):
                page = search(max_results=page_size)
                while page.token:
                    page = search(max_results=page_size, page_token=page.token)

        client_order = itertools.cycle(names)

        async def client_one() -> None:
            mlflow_client.search_model_versions(filter_string=f"name='{next(client_order)}'")

        rest_one = cycling(lambda name: f"{base}{API}/model-versions/search?{_name_filter(name)}", rest)
        views: dict[str, dict[str, tuple[Call, int]]] = {
            "all models": {
                OURS: (tower_all, params.tower_requests),
                OURS_HTTPX: (with_httpx(lambda _: stack.tower.url("/models/all")), params.tower_requests),
                MLFLOW_REST: (rest_all, params.mlflow_all_models_requests),
                MLFLOW_CLIENT: (client_all, params.mlflow_all_models_requests),
            },
            "one model": {
                OURS: (cycling(lambda name: stack.tower.url(f"/model/{name}/versions"), ours), params.tower_requests),
                OURS_HTTPX: (
                    with_httpx(lambda name: stack.tower.url(f"/model/{name}/versions")),
                    params.tower_requests,
                ),
                MLFLOW_REST: (rest_one, params.mlflow_one_model_requests),
                MLFLOW_CLIENT: (client_one, params.mlflow_one_model_requests),
            },
            "dashboard summary": {
                OURS: (tower_summary, params.tower_requests),
                OURS_HTTPX: (with_httpx(lambda _: stack.tower.url("/dashboard/summary")), params.tower_requests),
            },
        }
        for view, calls in views.items():
            console.log(f"sequential reads, {view}: " + ", ".join(f"{n} x{c}" for n, (_, c) in calls.items()))
            samples = await measure(calls, rounds=params.rounds, warmup_fraction=params.warmup_fraction)
            latencies = {name: summarise(values) for name, values in samples.items()}
            ours_p50 = latencies[OURS].p50_ms
            results[view] = {
                "variants": {name: asdict(latency) for name, latency in latencies.items()},
                "mlflow_over_ours_p50": {
                    name: round(latency.p50_ms / ours_p50, 1)
                    for name, latency in latencies.items()
                    if name not in (OURS, OURS_HTTPX)
                },
                "goal_ms": LATENCY_GOAL_MS,
                "met": ours_p50 <= LATENCY_GOAL_MS,
            }
        await ours_httpx.aclose()
    return results


# --- 3. refreshes -------------------------------------------------------------------------------------------


def full_refreshes(stack: TowerStack, params: ControlTowerParams, console: Console) -> dict[str, Any]:
    """`POST /cache/refresh` on the running service: wall-clock over HTTP and the read time it reports."""
    console.log(f"full refresh: POST /cache/refresh x{params.full_refreshes} ...")
    wall: list[float] = []
    reported: list[float] = []
    synced = 0
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        for _ in range(params.full_refreshes):
            started = time.perf_counter()
            response = client.post(stack.tower.url("/cache/refresh"))
            wall.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise BenchmarkError(f"/cache/refresh answered {response.status_code}: {response.text[:300]}")
            answer = response.json()
            synced = int(answer["models_synced"])
            reported.append(float(answer["cache_stats"]["last_refresh_seconds"]))
        info = _get_json(client, stack.tower.url("/cache/info"))["cache_info"]
    return {
        "repetitions": params.full_refreshes,
        "versions_synced": synced,
        "wall_ms": [round(s * 1000, 1) for s in wall],
        "wall_ms_median": round(statistics.median(wall) * 1000, 1),
        "last_refresh_seconds": reported,
        "last_refresh_seconds_median": round(statistics.median(reported), 4),
        "snapshot_file_bytes": info["persistence"]["cache_file_size_bytes"],
    }


async def _in_process(stack: TowerStack, params: ControlTowerParams) -> dict[str, Any]:
    """The control tower app in this process (its own home, same MLflow), its first read done: a full refresh
    and the event-driven refresh of one model, each timed; and the parts a refresh of one model pays for."""
    from mlsec.core.settings import Settings
    from mlsec.services.control_tower.app import create_app
    from mlsec.services.control_tower.service import snapshot as files
    from mlsec.services.control_tower.service.views import Views
    from mlsec.services.control_tower.settings import ControlTowerSettings

    home = stack.workdir / "in-process-home"
    settings = Settings(_env_file=None, home=home, mlflow_tracking_uri=stack.tracking_uri, log_level="WARNING")
    own = ControlTowerSettings(_env_file=None, event_refresh=False)
    app = create_app(settings, own)
    async with app.router.lifespan_context(app):
        tower = app.state.control_tower
        await tower.ctx.startup.wait("registry")
        cache = tower.cache
        full: list[float] = []
        for _ in range(params.full_refreshes):
            started = time.perf_counter()
            snapshot = await cache.refresh()
            full.append(time.perf_counter() - started)
        reads = [snapshot.refresh_seconds]
        names = random.Random(params.name_order_seed + 1).sample(stack.expected.names, params.model_refreshes)
        wall: list[float] = []
        reported: list[float] = []
        for name in names:  # each model once: the MLflow client's short-lived answer cache never helps
            started = time.perf_counter()
            await cache.refresh_model(name)
            wall.append(time.perf_counter() - started)
            reported.append(float(cache.last_event_refresh_seconds))
        if cache.event_refreshes != len(names) or cache.last_error is not None:
            raise BenchmarkError(f"refresh_model: {cache.event_refreshes} done, last error {cache.last_error}")
        snapshot = cache.current()
        parts: dict[str, list[float]] = {"read_model": [], "load_file": [], "build_views": [], "save_file": []}
        path = home / "parts-snapshot.json"
        unrefreshed = [name for name in stack.expected.names if name not in names]
        for name in unrefreshed[:3]:  # models not refreshed yet: no answer of theirs is in the client's cache
            started = time.perf_counter()
            await tower.reader.read_model(name, snapshot.runs)
            parts["read_model"].append(time.perf_counter() - started)
        for _ in range(3):
            started = time.perf_counter()
            files.save(snapshot, path)
            parts["save_file"].append(time.perf_counter() - started)
            started = time.perf_counter()
            loaded = files.load(path)
            parts["load_file"].append(time.perf_counter() - started)
            started = time.perf_counter()
            Views.build(loaded or snapshot, tower.monitored_types, own.max_models_returned)
            parts["build_views"].append(time.perf_counter() - started)
    return {
        "full": {
            "repetitions": len(full),
            "wall_ms": [round(s * 1000, 1) for s in full],
            "wall_ms_median": round(statistics.median(full) * 1000, 1),
            "read_seconds_last": reads[-1],
        },
        "event_model": {
            "models": len(names),
            "wall_ms_median": round(statistics.median(wall) * 1000, 1),
            "wall_ms_max": round(max(wall) * 1000, 1),
            "last_event_refresh_seconds": reported,
            "last_event_refresh_seconds_median": round(statistics.median(reported), 4),
        },
        "parts_ms_median": {name: round(statistics.median(v) * 1000, 1) for name, v in parts.items()},
        "snapshot_bytes": path.stat().st_size,
    }


def refreshes(stack: TowerStack, params: ControlTowerParams, console: Console) -> dict[str, Any]:
    over_http = full_refreshes(stack, params, console)
    console.log(f"in process: full refresh x{params.full_refreshes}, refresh_model x{params.model_refreshes} ...")
    logging.getLogger("mlsec").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        in_process = asyncio.run(_in_process(stack, params))
    return {"full_over_http": over_http, "in_process": in_process}


# --- 4. restarts --------------------------------------------------------------------------------------------


def first_answer(server: Server, started: float, expected: Any) -> dict[str, Any]:
    """Poll `/models/all` from the moment the process starts until it equals `expected`: the seconds until the
    process first answered anything and until its answer was the right one, and the staleness it declared."""
    deadline = started + STARTUP_TIMEOUT_SECONDS
    first_http: float | None = None
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchmarkError(f"{server.name} exited:\n{server.log_tail()}")
            try:
                response = client.get(server.url("/models/all"))
            except httpx.TransportError:
                time.sleep(POLL_SECONDS)
                continue
            now = time.monotonic() - started
            first_http = now if first_http is None else first_http
            if response.status_code == 200 and response.json() == expected:
                return {
                    "first_http_answer_s": round(first_http, 3),
                    "first_correct_answer_s": round(now, 3),
                    "stale_header": response.headers.get("X-Mlsec-Stale"),
                }
            time.sleep(POLL_SECONDS)
    raise BenchmarkError(f"{server.name}: no correct /models/all after {STARTUP_TIMEOUT_SECONDS:.0f} s")


def import_seconds() -> float:
    """A bare interpreter importing the CLI and the control tower's app: the floor of any start of the service."""
    code = "import mlsec.cli, mlsec.services.control_tower.app"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True)
    if done.returncode != 0:
        raise BenchmarkError(f"importing the control tower failed: {done.stderr[-500:]!r}")
    return round(time.monotonic() - started, 3)


def restarts(stack: TowerStack, params: ControlTowerParams, console: Console) -> dict[str, Any]:
    """A cold start without the file (MLflow up), then MLflow stopped and `restarts` starts from the file."""
    workdir, uri = stack.workdir, stack.tracking_uri
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        before = _get_json(client, stack.tower.url("/models/all"))
    _stop_group(stack.tower.process)  # the file it wrote on its last refresh is what the restarts read

    console.log("cold start: no snapshot file (persistence off), MLflow up ...")
    with ExitStack() as one:
        env = tower_env(workdir / "cold-home", uri, MLSEC_CONTROL_TOWER_ENABLE_CACHE_PERSISTENCE="false")
        started = time.monotonic()
        cold = first_answer(start_tower(one, workdir, "control tower cold", env), started, before)

    _stop_group(stack.mlflow.process)
    console.log(f"MLflow stopped; {params.restarts} restart(s) from the snapshot file ...")
    warm: list[dict[str, Any]] = []
    for attempt in range(params.restarts):
        with ExitStack() as one:
            env = tower_env(workdir / "tower-home", uri)
            started = time.monotonic()
            warm.append(
                first_answer(start_tower(one, workdir, f"control tower restart {attempt + 1}", env), started, before)
            )
    floor = import_seconds()
    median = statistics.median(a["first_correct_answer_s"] for a in warm)
    return {
        "versions": len(before),
        "from_file_mlflow_down": warm,
        "from_file_median_s": round(median, 3),
        "cold_no_file_mlflow_up": cold,
        "interpreter_and_imports_s": floor,
        "snapshot_file_bytes": (workdir / "tower-home" / "control-tower" / "registry-snapshot.json").stat().st_size,
        "goal_s": RESTART_GOAL_SECONDS,
        "met": median <= RESTART_GOAL_SECONDS,
    }


# --- the run ------------------------------------------------------------------------------------------------


def run(workdir: Path, params: ControlTowerParams, console: Console) -> dict[str, Any]:
    """Set up, measure, tear down; the figures as a JSON-ready dict."""
    with tower_stack(workdir, params, console) as stack:
        answers = check_answers(stack)
        if not answers["met"]:
            raise BenchmarkError(f"the answers differ from what was registered: {answers['problems']}")
        reads = asyncio.run(sequential_reads(stack, params, console))
        refreshed = refreshes(stack, params, console)
        restarted = restarts(stack, params, console)
        setup = stack.setup
    return {
        "setup": setup,
        "answers": answers,
        "reads": reads,
        "refresh": refreshed,
        "restart": restarted,
        "previous_mlflow_p50_ms": PREVIOUS_MLFLOW_MS,
        "verdicts": {
            "latency": {view: figures["met"] for view, figures in reads.items()},
            "restart": restarted["met"],
        },
    }


# --- reporting ----------------------------------------------------------------------------------------------

READ_COLUMNS = ("View", "Variant", "requests", "p50 ms", "p95 ms", "p99 ms", "MLflow / ours")
VIEW_LABELS = {
    "all models": {
        OURS: "control tower: GET /models/all",
        OURS_HTTPX: "the same, sent with httpx.AsyncClient",
        MLFLOW_REST: "MLflow REST: registered-models + model-versions/search",
        MLFLOW_CLIENT: "MlflowClient: search_registered_models + _model_versions",
    },
    "one model": {
        OURS: "control tower: GET /model/{name}/versions",
        OURS_HTTPX: "the same, sent with httpx.AsyncClient",
        MLFLOW_REST: "MLflow REST: model-versions/search name='...'",
        MLFLOW_CLIENT: "MlflowClient: search_model_versions(\"name='...'\")",
    },
    "dashboard summary": {
        OURS: "control tower: GET /dashboard/summary",
        OURS_HTTPX: "the same, sent with httpx.AsyncClient",
    },
}


def read_cells(reads: dict[str, Any]) -> list[list[str]]:
    rows = []
    for view, figures in reads.items():
        for name, latency in figures["variants"].items():
            ratio = figures["mlflow_over_ours_p50"].get(name)
            rows.append(
                [
                    view,
                    VIEW_LABELS[view][name],
                    f"{latency['requests']:,}",
                    f"{latency['p50_ms']:.2f}",
                    f"{latency['p95_ms']:.2f}",
                    f"{latency['p99_ms']:.2f}",
                    "1" if name == OURS else "-" if ratio is None else f"{ratio:.1f}x",
                ]
            )
    return rows


REFRESH_COLUMNS = ("What", "ms (median)", "MLflow read, s", "runs")


def refresh_cells(refresh: dict[str, Any]) -> list[list[str]]:
    http, inproc = refresh["full_over_http"], refresh["in_process"]
    event, parts = inproc["event_model"], inproc["parts_ms_median"]
    return [
        [
            f"full refresh, POST /cache/refresh ({http['versions_synced']:,} versions)",
            f"{http['wall_ms_median']:,.1f}",
            f"{http['last_refresh_seconds_median']:.3f}",
            str(http["repetitions"]),
        ],
        [
            "full refresh, in process (cache.refresh())",
            f"{inproc['full']['wall_ms_median']:,.1f}",
            f"{inproc['full']['read_seconds_last']:.3f}",
            str(inproc["full"]["repetitions"]),
        ],
        [
            "event-driven, one model (cache.refresh_model(name))",
            f"{event['wall_ms_median']:,.1f}",
            f"{event['last_event_refresh_seconds_median']:.3f} (whole)",
            str(event["models"]),
        ],
        ["  of which: read the model from MLflow", f"{parts['read_model']:,.1f}", "-", "3"],
        ["  of which: rebuild every view", f"{parts['build_views']:,.1f}", "-", "3"],
        ["  of which: write the snapshot file", f"{parts['save_file']:,.1f}", "-", "3"],
        ["(restart: read the snapshot file)", f"{parts['load_file']:,.1f}", "-", "3"],
    ]


RESTART_COLUMNS = ("Start", "first HTTP answer s", "first correct /models/all s", "stale header")


def restart_cells(restart: dict[str, Any]) -> list[list[str]]:
    rows = [
        [
            f"from the snapshot file, MLflow stopped (#{index + 1})",
            f"{attempt['first_http_answer_s']:.3f}",
            f"{attempt['first_correct_answer_s']:.3f}",
            "yes" if attempt["stale_header"] else "no",
        ]
        for index, attempt in enumerate(restart["from_file_mlflow_down"])
    ]
    cold = restart["cold_no_file_mlflow_up"]
    rows.append(
        [
            "no file, MLflow up (reads MLflow first)",
            f"{cold['first_http_answer_s']:.3f}",
            f"{cold['first_correct_answer_s']:.3f}",
            "yes" if cold["stale_header"] else "no",
        ]
    )
    rows.append(
        ["python -c 'import mlsec.cli, ...control_tower.app'", "-", f"{restart['interpreter_and_imports_s']:.3f}", "-"]
    )
    return rows


def verdict_lines(figures: dict[str, Any]) -> list[str]:
    word = _report.verdict_word
    reads, restart = figures["reads"], figures["restart"]
    lines = [
        f"Latency goal (control tower p50 <= {LATENCY_GOAL_MS:g} ms), {view}: {word(result['met'])}: "
        f"{result['variants'][OURS]['p50_ms']:.2f} ms (with httpx {result['variants'][OURS_HTTPX]['p50_ms']:.2f} ms)"
        + "".join(
            f"; {name} {result['variants'][name]['p50_ms']:.1f} ms ({ratio:.1f}x)"
            for name, ratio in result["mlflow_over_ours_p50"].items()
        )
        + "."
        for view, result in reads.items()
    ]
    lines.append(
        f"Restart goal (first correct /models/all of {restart['versions']:,} versions <= {RESTART_GOAL_SECONDS:g} s "
        f"after the process starts, MLflow stopped): {word(restart['met'])}: "
        f"median {restart['from_file_median_s']:.2f} s "
        f"of {len(restart['from_file_mlflow_down'])}; a bare interpreter importing the service takes "
        f"{restart['interpreter_and_imports_s']:.2f} s."
    )
    return lines


def rich_tables(figures: dict[str, Any]) -> list[Table]:
    registry = figures["setup"]["registry"]
    return [
        _report.cells_table(
            f"Control tower against MLflow: sequential reads ({registry['models']} models x "
            f"{registry['versions'] // registry['models']} versions)",
            READ_COLUMNS,
            read_cells(figures["reads"]),
            caption="one caller, keep-alive; MLflow / ours = how many times faster the control tower's p50 is",
            left={"View", "Variant"},
        ),
        _report.cells_table("Refreshes", REFRESH_COLUMNS, refresh_cells(figures["refresh"])),
        _report.cells_table("Restarts: from process start", RESTART_COLUMNS, restart_cells(figures["restart"])),
        _report.verdict_table(verdict_lines(figures)),
    ]


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    return record


def markdown(record: dict[str, Any]) -> str:
    p, setup = record["parameters"], record["setup"]
    registry = setup["registry"]
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    previous = ", ".join(f"{view} {ms:g} ms" for view, ms in record["previous_mlflow_p50_ms"].items())
    return f"""# Control tower benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- Registry: {registry["models"]} models x {p["versions_per_model"]} versions ({registry["versions"]:,} versions, \
each from its own finished run, {registry["metrics_logged"]:,} metrics in all; champion on v{p["versions_per_model"]}, \
challenger on v{p["versions_per_model"] - 1}), built through `mlflow.MlflowClient` with {registry["threads"]} threads \
in {registry["seconds"]:.1f} s ({registry["mlflow_calls"]:,} calls, {registry["calls_per_second"]} calls/s) \
on the real MLflow server (SQLite, one worker, as `mlsec up` starts it).
- Control tower: `python -m mlsec serve control-tower`, defaults; first full read of MLflow done \
{setup["tower_ready_s"]:.1f} s after its start. `/models/all` is {record["answers"]["models_all_bytes"]:,} bytes \
of JSON; every view checked against what was registered before timing.
- Parameters: sequential requests (one caller, one keep-alive aiohttp connection per side), \
{p["tower_requests"]:,} per control-tower view, {p["mlflow_one_model_requests"]:,} per MLflow one-model variant, \
{p["mlflow_all_models_requests"]:,} per MLflow all-models variant, in {p["rounds"]} interleaved rounds after \
{p["warmup_fraction"]:.0%} unmeasured; per-model views cycle through every model in one shuffled order.
- Run time: {record["duration_s"]:.0f} s

## Sequential reads

{_report.markdown_cells(READ_COLUMNS, read_cells(record["reads"]))}

MLflow / ours is MLflow's p50 over the control tower's: how many times faster the control tower answers. The
HTTP variants time the whole body received (not parsed); the `mlflow` client variants include what that client
does (its HTTP session, protobuf-to-object conversion). The control tower's answers also carry each version's run
metrics, which MLflow's answers do not (they would take a `runs/search` more). The issue measured MLflow at {previous}.

## Refreshes

{_report.markdown_cells(REFRESH_COLUMNS, refresh_cells(record["refresh"]))}

"MLflow read, s" is the `last_refresh_seconds` (`refresh_seconds` of the snapshot) the service reports for a full
refresh, and `last_event_refresh_seconds` for one model (the whole refresh_model: MLflow read, view rebuild, file
write). The in-process rows run `create_app` in the benchmark's process against the same MLflow (own home, no
event subscription).

## Restarts

{_report.markdown_cells(RESTART_COLUMNS, restart_cells(record["restart"]))}

Seconds from the process's start (`Popen`) to its first HTTP answer of any kind, and to its first `/models/all`
equal to the answer the running service gave before it was stopped ({record["restart"]["versions"]:,} versions),
polled every {POLL_SECONDS * 1000:g} ms. The snapshot file is {record["restart"]["snapshot_file_bytes"]:,} bytes.

## Verdicts

{verdicts}

See `benchmarks/README.md` for what each figure measures.
"""
