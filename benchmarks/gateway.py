"""What the gateway costs a prediction: the model API called directly, through the mlsec gateway, and through nginx.

Set-up (not timed), the serving suite's own: a real MLflow tracking server in a temporary directory,
`security-classifier` trained and registered there by `train_and_register`, and our model API
(`python -m mlsec serve model-api`) serving it, warmed through its warm-cache route. In front of that one
model API, on free loopback ports:

- the gateway, started as a user starts it (`python -m mlsec serve gateway`, its own `MLSEC_HOME`,
  `MODEL_API_URL` pointing at the model API), forwarding `/api/model-api/predict` through the SDK. When it
  asks for credentials it is called like a real client: with the admin API key it writes to
  `<MLSEC_HOME>/credentials` at first start, in `Authorization: Bearer` on every request (verified with
  argon2 once, then cached by the gateway: what production sees);
- nginx, the reverse proxy a user would otherwise put in front of the model API (keep-alive upstream, one
  worker process per core, no access log), when it is installed. Without it the others still run and the
  table and the record say how to install it;
- the bare relay (`benchmarks/_relay.py`): the least a Python relay can be, a raw ASGI app under uvicorn
  (run as `mlsec serve` runs it) forwarding with one aiohttp session, with none of the gateway's request id,
  metrics, tracing, authentication, rate limit or error envelope: the floor the gateway is measured against
  on this machine, as nginx is the floor of any proxy.

Measured in one run, rounds interleaved: single-text predictions (`POST /predict {"text"}`, the held-out texts
in the serving suite's shuffled order) at concurrency 1 and 16, the same request bytes and headers to each
URL; and first, that every variant gives the same answer for every held-out text. The figure the gateway is
held to: its own CPU per forwarded prediction, at most `CPU_GOAL_US` at every concurrency.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from benchmarks import _report, serving
from benchmarks._load import GENERATOR, JSON_HEADERS, Variant, compare, json_bodies
from benchmarks._serve import HOST
from benchmarks._servers import BenchmarkError, free_port
from benchmarks.foundation import Comparison
from benchmarks.serving import (
    MODEL_URI,
    REQUEST_TIMEOUT_SECONDS,
    TEXT_ORDER_SEED,
    Data,
    Server,
    child_env,
    load_order,
    start_model_api,
    start_registry,
    start_server,
    wait_ready,
    warm_model_api,
    worker_clients,
)

DIRECT = "direct"
GATEWAY = "mlsec gateway"
NGINX = "nginx"
RELAY = "bare relay"
RELAY_SCRIPT = Path(__file__).resolve().parent / "_relay.py"
CPU_GOAL_US = 400.0
"""The gateway's own CPU per forwarded prediction (server side, its process tree), at most this at every concurrency."""
PREDICT_PATH = "/predict"
GATEWAY_PREDICT_PATH = "/api/model-api/predict"
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
"""Where nginx lives when `sbin` is not on PATH (a non-root shell on Debian, a source build)."""
NGINX_INSTALL = "apt-get install nginx-light"
NGINX_UPSTREAM_KEEPALIVE = 32
RUN_RATE_LIMIT = "1000000/minute"
"""The admin key's rate limit for the run: high enough that no request of the load test is refused (the default
is sized for serving traffic, not for a load test); the limiter still counts every request, so its cost stays
in the figures."""
ANSWER_IGNORED = frozenset({"latency_ms"})
"""Fields of a /predict answer that differ between two calls of the same text by design."""
CAPTION = (
    "added = variant - direct, ratio = variant / direct, same run. CPU: the server-side process tree: the model "
    "API's for direct, the proxy's own for the gateway, nginx and the bare relay (the model API's work comes on top)."
)
CPU_CAPTION = (
    "The gateway's own CPU (its process tree, user + system) per forwarded prediction, from the rows above; the bare "
    "relay (uvicorn + aiohttp, nothing else) and nginx are the floors on this machine."
)
COLUMNS = ("Conc", "Variant", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "p50 added ms", "p99 added ms", "req/s ratio")


@dataclass(frozen=True)
class GatewayParams:
    """Everything that shapes a run; recorded with the results."""

    requests: int
    warmup: int
    rounds: int
    concurrency: tuple[int, ...] = (1, 16)
    text_order_seed: int = TEXT_ORDER_SEED


@dataclass
class GatewayStack:
    """The model API and the proxies in front of it, live, and what a client must send the gateway."""

    model_api: Server
    gateway: Server
    nginx: Server | None
    relay: Server
    headers: dict[str, str]
    data: Data
    setup: dict[str, Any] = field(default_factory=dict)

    def targets(self) -> list[tuple[str, str, Server]]:
        """(variant, URL, server whose CPU is counted) for every variant this run has."""
        found = [
            (DIRECT, self.model_api.url(PREDICT_PATH), self.model_api),
            (GATEWAY, self.gateway.url(GATEWAY_PREDICT_PATH), self.gateway),
        ]
        if self.nginx is not None:
            found.append((NGINX, self.nginx.url(PREDICT_PATH), self.nginx))
        found.append((RELAY, self.relay.url(PREDICT_PATH), self.relay))
        return found


# --- the gateway ------------------------------------------------------------------------------------------


def start_gateway(stack: ExitStack, workdir: Path, model_api: Server, tracking_uri: str, port: int) -> Server:
    """`python -m mlsec serve gateway` with its own home, pointed at our model API; defaults otherwise."""
    return start_server(
        stack,
        GATEWAY,
        [sys.executable, "-m", "mlsec", "serve", "gateway"],
        child_env(
            MLSEC_HOME=str(workdir / "gateway-home"),
            MLSEC_GATEWAY_PORT=str(port),
            MODEL_API_URL=model_api.url(""),
            MLFLOW_TRACKING_URI=tracking_uri,
            MLSEC_GATEWAY_RATE_LIMIT_ADMIN=RUN_RATE_LIMIT,
            LOG_LEVEL="WARNING",
        ),
        workdir,
        port,
    )


def _gateway_defaults() -> dict[str, Any]:
    """The gateway's own defaults of the security settings that shape this run, for the record."""
    try:
        from mlsec.services.gateway.settings import GatewaySettings
    except ImportError:  # the gateway's settings moved: the record says less, the run goes on
        return {}
    fields = GatewaySettings.model_fields
    names = ("auth_enabled", "auth_cache_seconds", "rate_limit_admin")
    return {name: fields[name].default for name in names if name in fields}


def _read_api_key(home: Path) -> str:
    """The admin key the gateway wrote to `<home>/credentials` at first start (see `load_api_key`)."""
    from mlsec.core.auth import CREDENTIALS_FILE, read_credentials

    key = read_credentials(home / CREDENTIALS_FILE)
    if key is None:
        raise BenchmarkError(f"the gateway asked for a key but wrote no {CREDENTIALS_FILE} file in its MLSEC_HOME")
    return key


def authenticate(gateway: Server, home: Path, body: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    """The headers a real client sends the gateway, and how it authenticated (for the record).

    One prediction without credentials: a 401 means authentication is on, so the key from the credentials
    file is sent, and the first call with it, the one that pays for argon2, is timed.
    """
    url = gateway.url(GATEWAY_PREDICT_PATH)
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False) as client:
        response = client.post(url, content=body, headers=JSON_HEADERS)
        if response.status_code == 200:
            return {}, {"mode": "none", "note": "the gateway answered without credentials: authentication is off"}
        if response.status_code != 401:
            raise BenchmarkError(f"POST {url} answered {response.status_code}: {response.text[:300]}")
        headers = {"Authorization": f"Bearer {_read_api_key(home)}"}
        started = time.perf_counter()
        response = client.post(url, content=body, headers={**JSON_HEADERS, **headers})
        first_ms = round((time.perf_counter() - started) * 1000, 1)
    if response.status_code != 200:
        raise BenchmarkError(f"POST {url} with the admin key answered {response.status_code}: {response.text[:300]}")
    return headers, {
        "mode": "api_key",
        "note": "admin API key from the gateway's credentials file, in Authorization: Bearer on every request",
        "first_request_ms": first_ms,
    }


# --- nginx ------------------------------------------------------------------------------------------------


def find_nginx() -> str | None:
    """The nginx binary: on PATH, else where Debian and source builds put it; None when not installed."""
    found = shutil.which("nginx")
    if found is not None:
        return found
    return next((path for path in NGINX_PATHS if os.access(path, os.X_OK)), None)


def nginx_version(binary: str) -> str:
    """`nginx -v` (it prints to stderr): "1.22.1", or "unknown"."""
    try:
        result = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (result.stderr or result.stdout).strip()
    return text.rsplit("/", 1)[-1] if "/" in text else text or "unknown"


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def nginx_config(prefix: Path, port: int, upstream_port: int, workers: int) -> str:
    """A reverse proxy as its documentation advises for an HTTP/1.1 upstream: connections to the model API kept
    alive (`keepalive` needs HTTP/1.1 and an empty Connection header), no access log. Every file it writes goes
    under `prefix`; request bodies stay in memory (1 MiB buffer: the longest held-out text fits) as the model
    API keeps them."""
    return f"""# nginx in front of the model API, written by the gateway benchmark
worker_processes {workers};
pid "{prefix}/nginx.pid";
error_log "{prefix}/error.log" warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path "{prefix}/client_body";
    proxy_temp_path "{prefix}/proxy";
    fastcgi_temp_path "{prefix}/fastcgi";
    uwsgi_temp_path "{prefix}/uwsgi";
    scgi_temp_path "{prefix}/scgi";
    client_max_body_size 10m;
    client_body_buffer_size 1m;

    upstream model_api {{
        server {HOST}:{upstream_port};
        keepalive {NGINX_UPSTREAM_KEEPALIVE};
    }}

    server {{
        listen {HOST}:{port};
        location / {{
            proxy_pass http://model_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def start_nginx(stack: ExitStack, workdir: Path, binary: str, port: int, model_api: Server) -> Server:
    """nginx in the foreground (`daemon off;`) as a child, its configuration and files in `workdir/nginx`."""
    prefix = workdir / "nginx"
    prefix.mkdir(exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(nginx_config(prefix, port, model_api.port, usable_cores()), encoding="utf-8")
    command = [binary, "-c", str(config), "-p", str(prefix), "-g", "daemon off;"]
    return start_server(stack, NGINX, command, child_env(), workdir, port)


def _nginx_missing() -> dict[str, Any]:
    return {"found": False, "install": NGINX_INSTALL, "note": f"nginx not found; install it with `{NGINX_INSTALL}`"}


# --- the stack --------------------------------------------------------------------------------------------


@contextmanager
def gateway_stack(workdir: Path, console: Console) -> Iterator[GatewayStack]:
    """MLflow with the model registered, the model API serving it, the gateway, nginx and the bare relay in front; every
    process stopped on the way out. The servers start at once (the proxies need the model API only when
    a request comes)."""
    setup: dict[str, Any] = {}
    with ExitStack() as stack:
        tracking_uri, data = start_registry(stack, workdir, console, setup)
        binary = find_nginx()
        api_port, gateway_port, nginx_port, relay_port = free_port(), free_port(), free_port(), free_port()
        console.log(
            "starting the model API, the gateway, the bare relay"
            + (" and nginx ..." if binary else " (nginx not found) ...")
        )
        started = time.monotonic()
        model_api = start_model_api(stack, workdir, tracking_uri, api_port)
        gateway = start_gateway(stack, workdir, model_api, tracking_uri, gateway_port)
        nginx = start_nginx(stack, workdir, binary, nginx_port, model_api) if binary else None
        relay = start_server(
            stack,
            RELAY,
            [sys.executable, str(RELAY_SCRIPT), str(relay_port), model_api.url("")],
            child_env(),
            workdir,
            relay_port,
        )
        wait_ready(model_api, ["/health/live"], started)
        warm_model_api(model_api, setup)
        wait_ready(gateway, ["/health/live"], started)
        wait_ready(relay, ["/health/live"], started)  # relayed: the relay and the model API both answer
        setup["model_api_ready_s"], setup["gateway_ready_s"] = model_api.ready_seconds, gateway.ready_seconds
        setup["bare_relay"] = {"ready_s": relay.ready_seconds, "script": "benchmarks/_relay.py"}
        if nginx is not None and binary is not None:
            setup["nginx"] = {"found": True, "version": nginx_version(binary), "worker_processes": usable_cores()}
            try:
                wait_ready(nginx, ["/health/live"], started)  # proxied: nginx and the model API both answer
            except BenchmarkError as exc:  # installed but broken: measure the other two, say why in the record
                error = str(exc).replace(str(workdir), "<workdir>")  # the record names no machine's paths
                console.log(f"[yellow]nginx did not start; measuring without it:[/yellow] {escape(error)}")
                setup["nginx"] = {"found": True, "started": False, "error": error[:2000]}
                nginx = None
            else:
                setup["nginx"]["ready_s"] = nginx.ready_seconds
        else:
            setup["nginx"] = _nginx_missing()
            console.log(f"[yellow]nginx not found: its rows are left out (install it with `{NGINX_INSTALL}`)")
        probe = json_bodies([{"text": data.texts[0]}])()  # a held-out text, encoded as the load test sends it
        headers, setup["gateway_auth"] = authenticate(gateway, workdir / "gateway-home", probe)
        setup["gateway_settings"] = {"defaults": _gateway_defaults(), "rate_limit_admin_for_run": RUN_RATE_LIMIT}
        console.log(
            f"servers live: model API on :{api_port} ({model_api.ready_seconds:.0f} s), gateway on :{gateway_port} "
            f"({gateway.ready_seconds:.0f} s, authentication: {setup['gateway_auth']['mode']})"
            + (f", nginx on :{nginx_port}" if nginx is not None else "")
        )
        yield GatewayStack(
            model_api=model_api, gateway=gateway, nginx=nginx, relay=relay, headers=headers, data=data, setup=setup
        )


# --- 1. the same answers ----------------------------------------------------------------------------------


def _answer(client: httpx.Client, url: str, body: bytes) -> dict[str, Any]:
    response = client.post(url, content=body, headers=JSON_HEADERS)
    if response.status_code != 200:
        raise BenchmarkError(f"POST {url} answered {response.status_code}: {response.text[:300]}")
    answer = response.json()
    return {key: value for key, value in answer.items() if key not in ANSWER_IGNORED}


def same_answers(stack: GatewayStack, console: Console) -> dict[str, Any]:
    """Every held-out text through each variant, one at a time: each answer must equal the direct one (all
    fields but the server's own latency), so the load test measures proxies that forward faithfully."""
    texts = stack.data.texts
    targets = stack.targets()
    console.log(f"same answers: {len(texts)} held-out texts through {', '.join(name for name, _, _ in targets)} ...")
    mismatches = {name: 0 for name, _, _ in targets if name != DIRECT}
    bodies = json_bodies({"text": text} for text in texts)
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, trust_env=False, headers=stack.headers) as client:
        for _ in texts:
            body = bodies()
            direct = _answer(client, targets[0][1], body)
            for name, url, _server in targets[1:]:
                mismatches[name] += _answer(client, url, body) != direct
    return {"texts": len(texts), "mismatches": mismatches, "met": not any(mismatches.values())}


# --- 2. single-text predictions ---------------------------------------------------------------------------


async def single_predictions(stack: GatewayStack, params: GatewayParams, console: Console) -> list[Comparison]:
    """Every variant under the same closed-loop load at each concurrency: the same bodies in the same order and
    the same headers (the gateway's key included), so the URL is the only difference."""
    texts = load_order(stack.data.texts, params.text_order_seed)
    targets = stack.targets()
    comparisons: list[Comparison] = []
    for concurrency in params.concurrency:
        console.log(f"single predictions at concurrency {concurrency}: {params.requests} requests each ...")
        async with AsyncExitStack() as clients:
            variants = [
                Variant(
                    name,
                    await clients.enter_async_context(worker_clients(concurrency, stack.headers)),
                    url,
                    server.cpu_seconds,
                    json_bodies({"text": text} for text in texts),
                )
                for name, url, server in targets
            ]
            stats = await compare(
                variants,
                requests=params.requests,
                warmup=params.warmup,
                rounds=params.rounds,
                concurrency=concurrency,
            )
        comparisons += [
            Comparison(
                benchmark="gateway",
                case="predict 1 text",
                concurrency=concurrency,
                cpu_of="server process tree: the model API's (direct), the proxy's own (subject)",
                baseline_name=DIRECT,
                subject_name=name,
                baseline=stats[DIRECT],
                subject=stats[name],
            )
            for name, _, _ in targets
            if name != DIRECT
        ]
    return comparisons


# --- the run ----------------------------------------------------------------------------------------------


def overhead(comparison: Comparison) -> dict[str, Any]:
    """What a proxy adds to the direct call: latency in ms, the share of throughput it keeps, its own CPU."""
    direct, proxied = comparison.baseline, comparison.subject
    return {
        "concurrency": comparison.concurrency,
        "variant": comparison.subject_name,
        "p50_added_ms": round(proxied.p50_ms - direct.p50_ms, 3),
        "p99_added_ms": round(proxied.p99_ms - direct.p99_ms, 3),
        "rps_ratio": round(comparison.rps_ratio, 3),
        "proxy_cpu_us_per_request": round(proxied.cpu_us_per_request),
        "proxy_cpu_vs_model_api": round(comparison.cpu_ratio, 3),
    }


def at_load(overheads: list[dict[str, Any]], variant: str) -> dict[str, Any] | None:
    """What `variant` adds at the highest concurrency (p50, and the share of the direct throughput it keeps);
    None when the variant did not run. Recorded, no longer judged: on two shared cores the added p50 measured
    the machine (queueing behind the load generator and the model API), not the proxy; CPU per request is the
    gateway's goal."""
    rows = [row for row in overheads if row["variant"] == variant]
    if not rows:
        return None
    busiest = max(rows, key=lambda row: row["concurrency"])
    return {
        "variant": variant,
        "concurrency": busiest["concurrency"],
        "p50_added_ms": busiest["p50_added_ms"],
        "rps_ratio": busiest["rps_ratio"],
    }


def run(workdir: Path, params: GatewayParams, console: Console) -> dict[str, Any]:
    """Set up, check the answers, measure, tear down; the figures as a JSON-ready dict (comparisons as objects)."""
    with gateway_stack(workdir, console) as stack:
        answers = same_answers(stack, console)
        comparisons = asyncio.run(single_predictions(stack, params, console))
        setup = stack.setup
    overheads = [overhead(c) for c in comparisons]
    return {
        "setup": setup,
        "comparisons": comparisons,
        "overheads": overheads,
        "answers": answers,
        "verdicts": {
            "gateway_cpu": cpu_verdict(overheads),
            "gateway_at_load": at_load(overheads, GATEWAY),
            "nginx_at_load": at_load(overheads, NGINX),
            "same_answers": answers["met"],
        },
    }


def cpu_verdict(overheads: list[dict[str, Any]]) -> dict[str, Any]:
    """The gateway's own CPU per forwarded prediction at each concurrency against `CPU_GOAL_US`, beside the
    anchors' (the bare relay's, nginx's when it ran)."""
    rows = []
    for concurrency in sorted({row["concurrency"] for row in overheads}):
        cpu = {
            row["variant"]: row["proxy_cpu_us_per_request"] for row in overheads if row["concurrency"] == concurrency
        }
        rows.append(
            {
                "concurrency": concurrency,
                "gateway_us": cpu[GATEWAY],
                "bare_relay_us": cpu.get(RELAY),
                "nginx_us": cpu.get(NGINX),
                "met": cpu[GATEWAY] <= CPU_GOAL_US,
            }
        )
    return {"goal_us": CPU_GOAL_US, "by_concurrency": rows, "met": all(row["met"] for row in rows)}


# --- reporting --------------------------------------------------------------------------------------------


record_json = serving.record_json
"""The record with the comparisons as plain data, ratios included: the serving suite's, the same shape."""


def _nginx_absence(setup: dict[str, Any], *, short: bool = False) -> str | None:
    """Why the nginx rows are missing (`short`: in the table's cell); None when nginx ran."""
    nginx = setup.get("nginx", {})
    if not nginx.get("found", False):
        return "not found" if short else f"not found: install it with `{NGINX_INSTALL}`"
    if nginx.get("started") is False:
        return "did not start" if short else "installed but did not start (see the record's setup.nginx.error)"
    return None


def _stats_cells(concurrency: int, name: str, comparison: Comparison, baseline: bool) -> list[str]:
    stats = comparison.baseline if baseline else comparison.subject
    cells = [
        str(concurrency),
        name,
        f"{stats.rps:,.0f}",
        f"{stats.p50_ms:.2f}",
        f"{stats.p99_ms:.2f}",
        f"{stats.cpu_us_per_request:,.0f}",
    ]
    if baseline:
        return [*cells, "-", "-", "1.00"]
    row = overhead(comparison)
    return [*cells, f"{row['p50_added_ms']:+.2f}", f"{row['p99_added_ms']:+.2f}", f"{row['rps_ratio']:.2f}"]


def table_cells(figures: dict[str, Any]) -> list[list[str]]:
    """Per concurrency: direct, then each proxy with what it adds; a row saying so when nginx is missing."""
    comparisons: list[Comparison] = figures["comparisons"]
    missing = _nginx_absence(figures["setup"], short=True)
    rows: list[list[str]] = []
    for concurrency in sorted({c.concurrency for c in comparisons}):
        cell = [c for c in comparisons if c.concurrency == concurrency]
        rows.append(_stats_cells(concurrency, DIRECT, cell[0], baseline=True))
        rows += [_stats_cells(concurrency, c.subject_name, c, baseline=False) for c in cell]
        if missing is not None:
            rows.append([str(concurrency), NGINX, missing, *[""] * (len(COLUMNS) - 3)])
    return rows


def _at_load(result: dict[str, Any], name: str) -> str:
    return (
        f"{name} at concurrency {result['concurrency']}: p50 {result['p50_added_ms']:+.2f} ms, "
        f"{result['rps_ratio']:.0%} of the direct req/s"
    )


def cpu_line(cpu: dict[str, Any]) -> str:
    """The gateway CPU goal's verdict, with the anchors beside each figure."""
    word = _report.verdict_word
    cells = []
    for row in cpu["by_concurrency"]:
        anchors = [
            f"{name} {row[key]:,.0f}" for name, key in ((RELAY, "bare_relay_us"), (NGINX, "nginx_us")) if row[key]
        ]
        beside = f"; {', '.join(anchors)}" if anchors else ""
        cells.append(f"{row['gateway_us']:,.0f} µs at concurrency {row['concurrency']} ({word(row['met'])}{beside})")
    return (
        f"Gateway CPU per forwarded prediction (goal <= {cpu['goal_us']:,.0f} µs at every concurrency): "
        f"{word(cpu['met'])}: {'; '.join(cells)}."
    )


def cpu_cells(cpu: dict[str, Any]) -> list[list[str]]:
    def us(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    return [
        [
            str(row["concurrency"]),
            us(row["gateway_us"]),
            us(row["bare_relay_us"]),
            us(row["nginx_us"]),
            f"{cpu['goal_us']:,.0f}",
            _report.verdict_word(row["met"]),
        ]
        for row in cpu["by_concurrency"]
    ]


CPU_COLUMNS = ("Conc", "mlsec gateway µs", f"{RELAY} µs", "nginx µs", "goal µs", "gateway")


def verdict_lines(figures: dict[str, Any]) -> list[str]:
    verdicts, answers = figures["verdicts"], figures["answers"]
    lines = [cpu_line(verdicts["gateway_cpu"])]
    gateway, nginx = verdicts["gateway_at_load"], verdicts["nginx_at_load"]
    if gateway is not None:
        at_load_text = _at_load(gateway, "the gateway")
        lines.append(f"Recorded, not a goal (on two shared cores it measures the machine): {at_load_text}.")
    if nginx is not None:
        lines.append(f"nginx, the same figures: {_at_load(nginx, 'nginx')}.")
    else:
        lines.append(f"nginx: {_nginx_absence(figures['setup'])}; no anchor in this run.")
    mismatches = ", ".join(f"{count} through {name}" for name, count in answers["mismatches"].items())
    lines.append(
        f"Same answers: {_report.verdict_word(answers['met'])}: of {answers['texts']} held-out texts, answers "
        f"differing from the direct one (every field but latency_ms): {mismatches}."
    )
    return lines


def _caption(figures: dict[str, Any]) -> str:
    missing = _nginx_absence(figures["setup"])
    return CAPTION + ("" if missing is None else f" nginx {missing}.")


def rich_tables(figures: dict[str, Any]) -> list[Table]:
    load = _report.cells_table(
        "Gateway: a prediction direct to the model API, through the mlsec gateway, through nginx",
        COLUMNS,
        table_cells(figures),
        caption=escape(_caption(figures)),
        left={"Variant"},
    )
    tables = [load]
    if figures["verdicts"].get("gateway_cpu") is not None:
        tables.append(
            _report.cells_table(
                "Gateway CPU per forwarded prediction (server side, µs)",
                CPU_COLUMNS,
                cpu_cells(figures["verdicts"]["gateway_cpu"]),
                caption=escape(CPU_CAPTION),
            )
        )
    return [*tables, _report.verdict_table(verdict_lines(figures))]


def _auth_line(setup: dict[str, Any]) -> str:
    auth, settings = setup["gateway_auth"], setup.get("gateway_settings", {})
    defaults = settings.get("defaults", {})
    if auth["mode"] == "none":
        return "none: the gateway answered without credentials (authentication not enabled in this build)"
    cache = defaults.get("auth_cache_seconds")
    cached = f"cached for {cache:g} s" if isinstance(cache, int | float) else "then cached"
    return (
        f"the admin API key the gateway wrote to its credentials file, in `Authorization: Bearer` on every request "
        f"(to every variant, so the requests are identical); verified once with argon2 (first call "
        f"{auth['first_request_ms']:.0f} ms), {cached}. Admin rate limit raised from "
        f"{defaults.get('rate_limit_admin', 'its default')} to {settings.get('rate_limit_admin_for_run')} for the "
        f"run, so no request is refused; the limiter still counts every one"
    )


def _nginx_line(setup: dict[str, Any]) -> str:
    missing = _nginx_absence(setup)
    if missing is not None:
        return f"{missing}; its rows are missing"
    nginx = setup["nginx"]
    return (
        f"{nginx['version']}, {nginx['worker_processes']} worker processes (one per core), keep-alive upstream "
        f"(`keepalive {NGINX_UPSTREAM_KEEPALIVE}`, HTTP/1.1, empty Connection header), access log off"
    )


def _missing_note(setup: dict[str, Any]) -> str:
    missing = _nginx_absence(setup)
    return "" if missing is None else f"\nnginx {missing}.\n"


def _cpu_section(record: dict[str, Any]) -> str:
    cpu = record["verdicts"].get("gateway_cpu")
    if cpu is None:
        return ""
    return f"""
## Gateway CPU per forwarded prediction

{_report.markdown_cells(CPU_COLUMNS, cpu_cells(cpu))}

{CPU_CAPTION} The goal: at most {cpu["goal_us"]:,.0f} µs at every concurrency. At concurrency 1 every request
wakes an idle event loop, in the gateway and in the bare relay alike, which costs more per request than at 16,
where one wake-up serves several.
"""


def markdown(record: dict[str, Any]) -> str:
    p, setup = record["parameters"], record["setup"]
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    nginx_ready = setup.get("nginx", {}).get("ready_s")
    ready = f"model API {setup['model_api_ready_s']:.0f} s, gateway {setup['gateway_ready_s']:.0f} s" + (
        f", nginx {nginx_ready:.0f} s" if nginx_ready is not None else ""
    )
    return f"""# Gateway benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- Model: `{MODEL_URI}` trained by `train_and_register` on the shipped train files, held-out F1 \
{setup["held_out_metrics"].get("f1", float("nan")):.4f}, served by `mlsec serve model-api` with its defaults (one \
process); `mlsec serve gateway` in front of it with its defaults (one process), `MODEL_API_URL` pointing at it.
- Gateway authentication: {_auth_line(setup)}.
- nginx: {_nginx_line(setup)}.
- Bare relay: `benchmarks/_relay.py`, a raw ASGI app under uvicorn (as `mlsec serve` runs it) forwarding with one \
aiohttp session: no request id, metrics, tracing, authentication, rate limit or error envelope.
- Parameters: {p["requests"]} requests per variant and cell in {p["rounds"]} interleaved rounds after \
{p["warmup"]} warm-up requests, concurrency {", ".join(map(str, p["concurrency"]))}, closed loop, {GENERATOR}; \
`POST /predict {{"text": ...}}` (gateway: `POST {GATEWAY_PREDICT_PATH}`), the held-out \
texts in a fixed shuffled order, the same bytes to every variant.
- Run time: {record["duration_s"]:.0f} s (set-up: MLflow {setup["mlflow_server_ready_s"]:.0f} s, training and \
registration {setup["register_s"]:.0f} s, servers ready after {ready}).

## Single-text predictions

{_report.markdown_cells(COLUMNS, table_cells(record))}
{_missing_note(setup)}
Added is the variant's figure minus the direct one, in ms; the req/s ratio is variant / direct, so 0.75 means a
quarter of the throughput lost. CPU µs/req is server-side: the model API's process tree for direct, the proxy's
own process tree for the gateway, nginx and the bare relay (the model API's work for the same request comes on
top, and on this machine it competes with the proxy and the load generator for the same cores).
{_cpu_section(record)}
## Verdicts

{verdicts}

See `benchmarks/README.md` for what each figure measures.
"""
