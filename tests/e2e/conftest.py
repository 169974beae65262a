"""Helpers to run the real `mlsec` command as a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlsec.core.services import SERVICES


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


@pytest.fixture
def run_mlsec(tmp_path: Path) -> Iterator[type[Running]]:
    started: list[Running] = []

    class Tracked(Running):
        def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None):
            super().__init__(args, env, cwd or tmp_path)
            started.append(self)

    yield Tracked
    for run in started:  # never leave a platform behind, whatever the test did
        run.close()
