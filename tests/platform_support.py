"""Running the real `mlsec` command as a separate process, and the platform a test session shares.

A plain module (no fixtures): tests/conftest.py builds the session's `shared_platform` from it, and
tests/e2e and tests/browser import its helpers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx

from mlsec.core.auth import load_api_key, platform_auth
from mlsec.core.services import SERVICES
from mlsec.core.settings import Settings, load_settings


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (bound once, released, handed out)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def platform_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an isolated platform: its own home and free ports for everything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLSEC_", "REDIS_", "POSTGRES_", "MLFLOW_"))}
    ports = free_ports(len(SERVICES) + 1)
    env["MLSEC_HOME"] = str(home)
    env["MLSEC_MLFLOW_PORT"] = str(ports[-1])
    for spec, port in zip(SERVICES, ports, strict=False):
        env[f"MLSEC_{spec.key.upper()}_PORT"] = str(port)
    env.update(extra)
    return env


def platform_settings(env: dict[str, str]) -> Settings:
    """The settings the CLI or the SDK reads in `env` (no .env file)."""
    with patch.dict(os.environ, env, clear=True):
        return load_settings(_env_file=None)


def platform_client(env: dict[str, str]) -> httpx.Client:
    """A client that calls the platform as the SDK does in `env`: the service token `mlsec up` left in
    MLSEC_HOME to every service, the API key of the credentials file to the gateway."""
    settings = platform_settings(env)
    return httpx.Client(timeout=10, auth=platform_auth(settings, api_key=load_api_key(settings)))


class Running:
    """A running `mlsec` command whose output is collected line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlsec", *args],
            env=env,
            cwd=cwd,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
        except ValueError:  # the pipe was closed by the fixture's clean-up
            return

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.lines):
                return True
            if self.process.poll() is not None:
                self._reader.join(2)
                return any(needle in line for line in self.lines)
            time.sleep(0.2)
        return False

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        """Kill the process if it still runs, and release its output pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


READY_LINE = f"all {len(SERVICES) + 1} processes ready in"


@dataclass
class Platform:
    """The platform `mlsec up` runs for the whole session: tests/browser drives the dashboard on it, then
    tests/e2e/test_up.py looks at it as a user would, test_up_chaos.py kills its processes one by one, and
    test_up_stop.py stops it with Ctrl-C, in that (path) order. One start (and one training of the default
    model) instead of four."""

    running: Running
    env: dict[str, str]
    home: Path

    @property
    def ports(self) -> dict[str, int]:
        return {spec.name: int(self.env[f"MLSEC_{spec.key.upper()}_PORT"]) for spec in SERVICES}

    def url(self, service: str) -> str:
        port = self.env["MLSEC_MLFLOW_PORT"] if service == "mlflow" else self.ports[service]
        return f"http://127.0.0.1:{port}"

    def processes(self) -> dict[str, dict[str, Any]]:
        """The launcher's view of its processes (`MLSEC_HOME/run/processes.json`)."""
        return dict(json.loads((self.home / "run" / "processes.json").read_text())["processes"])

    def kill(self, name: str, within: float = 120) -> float:
        """kill -9 one process and wait until the launcher has it ready again; the (monotonic) time of the kill."""
        before = self.processes()[name]
        killed_at = time.monotonic()
        os.kill(int(before["pid"]), signal.SIGKILL)
        deadline = killed_at + within
        while time.monotonic() < deadline:
            now = self.processes()[name]
            if now["restarts"] == before["restarts"] + 1 and now["state"] == "ready":
                assert now["pid"] != before["pid"] and now["last_exit_code"] == -signal.SIGKILL, now
                return killed_at
            time.sleep(0.2)
        raise AssertionError(f"{name} was not restarted in {within} s: {self.processes()[name]}\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.running.lines[-60:])
