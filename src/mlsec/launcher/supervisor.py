"""`mlsec up`: the real MLflow server and every service, each in its own process.

Starts them all, waits until each answers its readiness probe, prints a table of services, URLs,
status and start-up time, and then streams every service's log to the terminal (one colour-tagged
line per event) and to `MLSEC_HOME/logs/<service>.log`. A service that fails to start is reported
with the tail of its log, and the others are stopped. Ctrl-C or SIGTERM stops everything: each
child runs in its own process group, which is terminated and, after a grace period, killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mlsec.core.auth import SERVICE_TOKEN_ENV, credentials_path, read_credentials
from mlsec.core.process import die_with_parent
from mlsec.core.services import SERVICES
from mlsec.core.settings import ConfigurationError, Settings
from mlsec.launcher.logview import LineSplitter, colour_for, render_line
from mlsec.launcher.preflight import check_database, check_ports, check_redis
from mlsec.launcher.serve import PARENT_PID_ENV

STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.25
LOG_TAIL_LINES = 25
MAX_LOG_LINE_BYTES = 1 << 20
READ_CHUNK_BYTES = 1 << 16


@dataclass
class Child:
    """One supervised process and what we know of it."""

    name: str
    argv: list[str]
    ready_url: str
    url: str
    colour: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    ready_after: float | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))
    pump: asyncio.Task[None] | None = None

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None


def mlflow_command(settings: Settings) -> list[str]:
    """The real MLflow tracking server: SQLite store and artifacts under MLSEC_HOME, one worker."""
    store = (settings.home / "mlflow").resolve()
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        settings.host,
        "--port",
        str(settings.mlflow_port),
        "--backend-store-uri",
        f"sqlite:///{store / 'mlflow.db'}",
        "--artifacts-destination",
        str(store / "artifacts"),
        "--workers",
        "1",
    ]


class Supervisor:
    """Starts, watches and stops the platform's processes."""

    def __init__(self, settings: Settings, console: Console | None = None):
        self.settings = settings
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.children: list[Child] = []
        self._stop = asyncio.Event()
        # Services post events to the gateway with the internal token: one per run unless configured.
        self._service_token = (
            settings.service_token.get_secret_value() if settings.service_token else secrets.token_urlsafe(32)
        )

    # ----- building the process list ---------------------------------------------------------

    def _plan(self) -> list[Child]:
        logs = self.settings.logs_dir.resolve()
        children = []
        if self.settings.mlflow_managed:
            uri = self.settings.mlflow_uri
            children.append(
                Child("mlflow", mlflow_command(self.settings), f"{uri}/health", uri, "white", logs / "mlflow.log")
            )
        for index, spec in enumerate(SERVICES):
            url = self.settings.url_for(spec)
            argv = [sys.executable, "-m", "mlsec", "serve", spec.name]
            children.append(
                Child(spec.name, argv, f"{url}/health/ready", url, colour_for(index), logs / f"{spec.name}.log")
            )
        return children

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "MLSEC_HOME": str(self.settings.home.resolve()),
                "MLFLOW_TRACKING_URI": self.settings.mlflow_uri,
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
                "PYTHONUNBUFFERED": "1",
                PARENT_PID_ENV: str(os.getpid()),
                SERVICE_TOKEN_ENV: self._service_token,
            }
        )
        return env

    # ----- running ---------------------------------------------------------------------------

    async def run(self) -> int:
        """Start everything, wait for readiness, serve until stopped; the exit code."""
        check_ports(self.settings, SERVICES, mlflow=self.settings.mlflow_managed)
        await check_redis(self.settings)
        await asyncio.gather(*(check_database(self.settings, spec) for spec in SERVICES))
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        began = time.monotonic()
        self.children = self._plan()
        credentials_before = self._credentials_text()
        try:
            for child in self.children:
                await self._start(child)
            self.console.print(f"starting {len(self.children)} processes, logs in {self.settings.logs_dir.resolve()}")
            failed = await self._wait_until_ready(began)
            if failed is not None:
                self._report_failure(failed)
                return 1
            if self._stop.is_set():
                return 0
            self._print_table(time.monotonic() - began)
            self._announce_new_key(credentials_before)
            return await self._watch()
        finally:
            await self._stop_all()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def _start(self, child: Child) -> None:
        child.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = child.log_path.open("a", encoding="utf-8")
        child.started_at = time.monotonic()
        child.process = await asyncio.create_subprocess_exec(
            *child.argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env=self._child_env(),
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        child.pump = asyncio.create_task(self._pump(child, log_file), name=f"log-{child.name}")

    async def _pump(self, child: Child, log_file: IO[str]) -> None:
        """Copy the child's output to its log file and, rendered, to the terminal."""
        assert child.process is not None
        stdout = child.process.stdout
        assert stdout is not None
        tag = Text(f"{child.name:<16} | ", style=child.colour)
        splitter = LineSplitter(MAX_LOG_LINE_BYTES)
        try:
            while chunk := await stdout.read(READ_CHUNK_BYTES):
                for raw in splitter.feed(chunk):
                    self._emit(child, tag, raw, log_file)
            for raw in splitter.close():
                self._emit(child, tag, raw, log_file)
        finally:
            log_file.close()

    def _emit(self, child: Child, tag: Text, raw: bytes, log_file: IO[str]) -> None:
        line = raw.decode("utf-8", errors="replace")
        log_file.write(line + "\n")
        log_file.flush()
        rendered = render_line(line)
        child.tail.append(rendered)
        self.console.print(Text.assemble(tag, rendered))

    async def _wait_until_ready(self, began: float) -> Child | None:
        """Poll every child's readiness concurrently; the first one to die or time out is returned."""
        deadline = began + self.settings.startup_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            results = await asyncio.gather(*(self._await_ready(client, child, deadline) for child in self.children))
        return next((child for child, ready in zip(self.children, results, strict=True) if not ready), None)

    async def _await_ready(self, client: httpx.AsyncClient, child: Child, deadline: float) -> bool:
        """True once the child is ready (or a stop was asked for); False when it died or timed out."""
        while not self._stop.is_set():
            if child.exited or time.monotonic() > deadline:
                return False
            if await self._is_ready(client, child):
                child.ready_after = time.monotonic() - child.started_at
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), POLL_SECONDS)
        return True

    @staticmethod
    async def _is_ready(client: httpx.AsyncClient, child: Child) -> bool:
        try:
            response = await client.get(child.ready_url)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def _watch(self) -> int:
        """Serve until Ctrl-C/SIGTERM (0) or until a child dies on its own (1)."""
        while not self._stop.is_set():
            for child in self.children:
                if child.exited:
                    assert child.process is not None
                    self.console.print(
                        f"[red]{child.name} exited with code {child.process.returncode}; stopping the platform[/red]"
                    )
                    self._print_tail(child)
                    return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 0.5)
        self.console.print("stopping the platform ...")
        return 0

    # ----- stopping --------------------------------------------------------------------------

    async def _stop_all(self) -> None:
        """SIGTERM every process group (services first, MLflow last), then SIGKILL what remains."""
        running = [c for c in reversed(self.children) if c.process is not None]
        tree = self._process_tree(running)
        for child in running:
            self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in running:
            assert child.process is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.process.wait(), max(0.1, deadline - time.monotonic()))
        for child in running:
            self._signal_group(child, signal.SIGKILL)
        _, alive = psutil.wait_procs(tree, timeout=0.5)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        for child in running:
            assert child.process is not None
            with contextlib.suppress(ProcessLookupError):
                await child.process.wait()
            if child.pump is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(child.pump, 2.0)

    @staticmethod
    def _process_tree(children: list[Child]) -> list[psutil.Process]:
        procs: list[psutil.Process] = []
        for child in children:
            assert child.process is not None
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(child.process.pid)
                procs.extend([root, *root.children(recursive=True)])
        return procs

    @staticmethod
    def _signal_group(child: Child, sig: signal.Signals) -> None:
        assert child.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, sig)

    # ----- reporting -------------------------------------------------------------------------

    def _report_failure(self, child: Child) -> None:
        if child.exited:
            assert child.process is not None
            why = f"exited with code {child.process.returncode} before it was ready"
        else:
            why = f"was not ready within {self.settings.startup_timeout:g} s (MLSEC_STARTUP_TIMEOUT)"
        self.console.print(f"[red]error: {child.name} {why}; stopping the others.[/red]")
        self._print_tail(child)

    def _print_tail(self, child: Child) -> None:
        self.console.print(f"last lines of {child.log_path}:")
        for line in child.tail:
            self.console.print(Text(f"  {line}"))

    def _credentials_text(self) -> str | None:
        try:
            return credentials_path(self.settings).read_text(encoding="utf-8")
        except OSError:
            return None

    def _announce_new_key(self, before: str | None) -> None:
        """Show the admin key the gateway created during this start, once; never a key that existed before."""
        path = credentials_path(self.settings).resolve()
        after = self._credentials_text()
        if after is None or after == before:
            return
        try:
            key = read_credentials(path)
        except ConfigurationError:
            return
        self.console.print(
            Text.assemble(
                ("admin API key created (shown once): ", "bold yellow"),
                (str(key), "bold"),
                f"\nsaved in {path} (mode 0600), where the CLI and the SDK find it; or set MLSEC_API_KEY.",
            )
        )

    def _print_table(self, elapsed: float) -> None:
        table = Table(title="mlsec platform")
        for column in ("service", "url", "status", "start-up"):
            table.add_column(column)
        for child in self.children:
            took = f"{child.ready_after:.1f} s" if child.ready_after is not None else "-"
            table.add_row(child.name, child.url, "[green]ready[/green]", took)
        self.console.print(table)
        self.console.print(
            f"[bold]all {len(self.children)} processes ready in {elapsed:.1f} s[/bold] - "
            f"gateway: {self.settings.url_for('gateway')}  (Ctrl-C stops everything)"
        )
