"""Real servers for tests: an app under uvicorn in a background thread, and the real MLflow tracking server
in its own process; each can be stopped and started again on the same port (a service going down and
coming back)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadedServer:
    """`start()` serves the app (lifespan included) until `stop()`; both wait until the change is done."""

    def __init__(self, app: FastAPI, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> ThreadedServer:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None, access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"server:{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        self._server, self._thread = server, thread
        return self

    def wait_started(self, timeout: float = 60.0) -> ThreadedServer:
        """Until the app's start-up tasks (preloading models, ...) are done, as `/health/ready` reports them."""
        deadline = time.monotonic() + timeout
        while True:
            ready = httpx.get(f"{self.url}/health/ready", timeout=5).json()
            if ready.get("status") == "ready" and not ready.get("pending"):
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"start-up tasks of {self.url} still pending: {ready}")
            time.sleep(0.05)

    def stop(self, timeout: float = 30.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class MlflowServer:
    """The real MLflow tracking server (SQLite store, local artifacts under `home`) as `mlsec up` starts it."""

    def __init__(self, home: Path, port: int | None = None):
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> MlflowServer:
        from mlsec.core.settings import Settings
        from mlsec.launcher.supervisor import mlflow_command

        self.home.mkdir(parents=True, exist_ok=True)
        argv = mlflow_command(Settings(_env_file=None, home=self.home, mlflow_port=self.port))
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        with (self.home / "mlflow.log").open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self._process.poll() is not None:
                raise RuntimeError(f"MLflow exited: {(self.home / 'mlflow.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"MLflow did not start within {timeout} s")
            time.sleep(0.3)

    def stop(self) -> None:
        """Stop the server and everything it started (its process group)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
