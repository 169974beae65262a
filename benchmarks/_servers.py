"""Start, wait for and always stop the server subprocesses the benchmarks drive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from benchmarks._serve import HOST, LIVE_PATH

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
# Variables that would change what is measured: mlsec settings (Redis, an OTLP exporter, ...) and
# proxies, which would send loopback traffic elsewhere. Cleared so a developer's shell cannot skew a run.
_SKEWING_ENV = (
    "MLSEC_",
    "REDIS_",
    "POSTGRES_URL",
    "OTEL_",
    "LOG_LEVEL",
    "MLFLOW_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


class BenchmarkError(RuntimeError):
    """A benchmark could not run (a server did not start, a request failed)."""


def isolate_environment() -> list[str]:
    """Drop the variables that would skew the figures from this process (children inherit); return their names."""
    dropped = [name for name in os.environ if name.upper().startswith(_SKEWING_ENV)]
    for name in dropped:
        del os.environ[name]
    return sorted(dropped)


def free_port() -> int:
    """A loopback port nobody listens on now, picked by the kernel (binding port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One running `benchmarks._serve` process."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used: the cost of serving, free of client noise."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _wait_until_live(server: ServerProcess, timeout: float) -> None:
    """Poll the liveness route until it answers 200; uvicorn only accepts once the lifespan has run."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise BenchmarkError(f"{server.kind} server exited with {code}:\n{server.log_tail()}")
            try:
                if client.get(server.url(LIVE_PATH)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BenchmarkError(f"{server.kind} server not live after {timeout:.0f} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)


@contextmanager
def running_server(kind: str, home: Path) -> Iterator[ServerProcess]:
    """A live server of `kind` for the duration of the block; stopped on the way out, whatever happens."""
    port = free_port()
    log_path = home / f"serve-{kind}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._serve", kind, str(port), str(home)],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(kind=kind, port=port, process=process, log_path=log_path)
    try:
        _wait_until_live(server, STARTUP_TIMEOUT_SECONDS)
        yield server
    finally:
        _stop(process)
