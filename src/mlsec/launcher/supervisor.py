"""`mlsec up`: the real MLflow server and every service, each in its own process.

Starts them all, waits until each answers its readiness probe, prints a table of services, URLs,
status and start-up time, and then streams every service's log to the terminal (one colour-tagged
line per event) and to `MLSEC_HOME/logs/<service>.log`. A service that fails to start is reported
with the tail of its log, and the others are stopped.

Once the platform is up, a process that dies is restarted with back-off (restart.py); a crash loop
gives up on that process alone, never on the others. Each exit, restart and give-up is printed, kept
in `MLSEC_HOME/run/processes.json` for `mlsec status` (state_file.py) and published as a platform
event (topic `health`, source `launcher`). Ctrl-C or SIGTERM stops everything: each child runs in its
own process group, which is terminated and, after a grace period, killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.text import Text

from mlsec.core.events import Event, EventPublisher, create_event_sink
from mlsec.core.files import private_dir, private_file
from mlsec.core.process import die_with_parent
from mlsec.core.service_token import SERVICE_TOKEN_ENV, write_service_token
from mlsec.core.services import SERVICES
from mlsec.core.settings import Settings
from mlsec.launcher.children import Child, signal_group, stop_children
from mlsec.launcher.logview import LineSplitter, colour_for, render_line
from mlsec.launcher.preflight import check_database, check_ports, check_redis
from mlsec.launcher.reporting import Reporter
from mlsec.launcher.restart import RestartPolicy, RestartRecord
from mlsec.launcher.serve import PARENT_PID_ENV
from mlsec.launcher.state_file import remove_state, state_path, write_state

STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.25
MAX_LOG_LINE_BYTES = 1 << 20
READ_CHUNK_BYTES = 1 << 16


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

    def __init__(self, settings: Settings, console: Console | None = None, *, policy: RestartPolicy | None = None):
        self.settings = settings
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.reporter = Reporter(settings, self.console)
        self.policy = policy or RestartPolicy()
        self.children: list[Child] = []
        self._stop = asyncio.Event()
        # Services require the internal token on every call and post events to the gateway with it: one per run
        # unless configured; a generated one is left (0600) for the CLI and the SDK when the first child starts.
        self._service_token = (
            settings.service_token.get_secret_value() if settings.service_token else secrets.token_urlsafe(32)
        )
        self._service_token_unsaved = settings.service_token is None
        self._token_file: Path | None = None  # removed at stop: the token dies with its run
        self._state_path = state_path(settings)
        self._events: EventPublisher | None = None
        self._watchers: set[asyncio.Task[None]] = set()

    # ----- building the process list ---------------------------------------------------------

    def _plan(self) -> list[Child]:
        logs = self.settings.logs_dir.resolve()
        children = []
        if self.settings.mlflow_managed:
            uri = self.settings.mlflow_uri
            children.append(
                Child("mlflow", mlflow_command(self.settings), f"{uri}/health", uri, "white", logs / "mlflow.log")
            )
            children[-1].record = RestartRecord(self.policy)
        for index, spec in enumerate(SERVICES):
            url = self.settings.url_for(spec)
            argv = [sys.executable, "-m", "mlsec", "serve", spec.name]
            children.append(
                Child(spec.name, argv, f"{url}/health/ready", url, colour_for(index), logs / f"{spec.name}.log")
            )
            children[-1].record = RestartRecord(self.policy)
        return children

    def _child_env(self) -> dict[str, str]:
        if self._service_token_unsaved:  # after the preflight checks: an `mlsec up` they refuse keeps its hands off
            self._token_file = write_service_token(self.settings, self._service_token)  # not a running one's
            self._service_token_unsaved = False
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
        credentials_before = self.reporter.credentials_text()
        http = httpx.AsyncClient(timeout=5.0)
        with_token = self.settings.model_copy(update={"service_token": SecretStr(self._service_token)})
        self._events = EventPublisher(create_event_sink(with_token, http))
        self._events.start()
        try:
            for child in self.children:
                await self._start(child)
            self._save_state()
            self.console.print(f"starting {len(self.children)} processes, logs in {self.settings.logs_dir.resolve()}")
            failed = await self._wait_until_ready(began)
            if failed is not None:
                self._report_failure(failed)
                return 1
            if self._stop.is_set():
                return 0
            self._save_state()
            self.reporter.print_table(list(self.children), time.monotonic() - began)
            self.reporter.announce_new_key(credentials_before)
            return await self._watch(http)
        finally:
            for watcher in self._watchers:
                watcher.cancel()
            await self._stop_all()
            remove_state(self._state_path)
            if self._token_file is not None:
                self._token_file.unlink(missing_ok=True)
            await self._events.close()
            await http.aclose()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def _start(self, child: Child) -> None:
        log_path = private_file(private_dir(child.log_path.parent) / child.log_path.name)  # 0600 in a 0700 folder
        log_file = log_path.open("a", encoding="utf-8")
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
                child.record.state = "ready"
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

    async def _watch(self, http: httpx.AsyncClient) -> int:
        """Serve until Ctrl-C/SIGTERM (0), restarting what dies; 1 only when every process was given up on."""
        while not self._stop.is_set():
            now = time.monotonic()
            for child in self.children:
                if child.record.state in ("starting", "ready") and child.exited:
                    self._on_exit(child, now)
                elif child.record.due(now):
                    await self._restart(child, http)
            if all(child.record.state == "given_up" for child in self.children):
                self.console.print("[red]every process was given up on; stopping the platform[/red]")
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 0.5)
        self.console.print("stopping the platform ...")
        return 0

    def _on_exit(self, child: Child, now: float) -> None:
        """A process died on its own: report it, clear what is left of its process group, plan its restart."""
        assert child.process is not None
        code = child.process.returncode
        assert code is not None
        signal_group(child, signal.SIGKILL)  # its workers would keep its port and its log pipe
        delay = child.record.exited(code, ran_for=now - child.started_at, now=now)
        if delay is None:
            policy = child.record.policy
            self.console.print(
                f"[red]{child.name} exited with code {code}, its {policy.max_crashes}th exit within "
                f"{policy.window:g} s: giving up on it (the other processes keep running)[/red]"
            )
            self._publish("process.given_up", child)
        else:
            self.console.print(
                f"[yellow]{child.name} exited with code {code}; restarting it in {delay:g} s "
                f"(restart {child.record.restarts + 1})[/yellow]"
            )
            self._publish("process.exited", child, restart_in_seconds=delay)
        self.reporter.print_tail(child)
        self._save_state()

    async def _restart(self, child: Child, http: httpx.AsyncClient) -> None:
        if child.pump is not None:  # the old process's last lines go to its log before the new one's
            with contextlib.suppress(Exception):
                await asyncio.wait_for(child.pump, 2.0)
        child.record.restarted()
        child.ready_after = None
        await self._start(child)
        self._save_state()
        watcher = asyncio.create_task(self._await_restarted(child, http), name=f"ready-{child.name}")
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _await_restarted(self, child: Child, http: httpx.AsyncClient) -> None:
        """Report a restarted process ready; one that hangs past the start-up timeout is killed (a crash)."""
        process = child.process
        deadline = child.started_at + self.settings.startup_timeout
        while child.process is process and not child.exited:
            if await self._is_ready(http, child):
                child.ready_after = time.monotonic() - child.started_at
                child.record.state = "ready"
                self.console.print(
                    f"[green]{child.name} is ready again after {child.ready_after:.1f} s "
                    f"(restart {child.record.restarts})[/green]"
                )
                self._publish("process.restarted", child, ready_after_seconds=round(child.ready_after, 3))
                self._save_state()
                return
            if time.monotonic() > deadline:
                self.console.print(f"[red]{child.name} was not ready within {self.settings.startup_timeout:g} s[/red]")
                signal_group(child, signal.SIGKILL)
                return
            await asyncio.sleep(POLL_SECONDS)

    def _publish(self, kind: str, child: Child, **extra: Any) -> None:
        payload = {
            "process": child.name,
            "exit_code": child.record.last_exit_code,
            "restarts": child.record.restarts,
            "state": child.record.state,
            **extra,
        }
        if self._events is not None:
            self._events.publish(Event(topic="health", type=kind, source="launcher", payload=payload))

    def _save_state(self) -> None:
        """`MLSEC_HOME/run/processes.json`, for `mlsec status`."""
        processes = {
            child.name: {
                "pid": child.process.pid if child.process is not None else None,
                "state": child.record.state,
                "restarts": child.record.restarts,
                "last_exit_code": child.record.last_exit_code,
            }
            for child in self.children
        }
        try:
            write_state(self._state_path, processes)
        except OSError as exc:  # a full disk must not stop the supervisor from supervising
            self.console.print(f"[yellow]could not write {self._state_path}: {exc}[/yellow]")

    # ----- stopping --------------------------------------------------------------------------

    async def _stop_all(self) -> None:
        """Services first, MLflow last."""
        await stop_children([c for c in reversed(self.children) if c.process is not None], STOP_GRACE_SECONDS)

    # ----- reporting -------------------------------------------------------------------------

    def _report_failure(self, child: Child) -> None:
        if child.exited:
            assert child.process is not None
            why = f"exited with code {child.process.returncode} before it was ready"
        else:
            why = f"was not ready within {self.settings.startup_timeout:g} s (MLSEC_STARTUP_TIMEOUT)"
        self.console.print(f"[red]error: {child.name} {why}; stopping the others.[/red]")
        self.reporter.print_tail(child)
