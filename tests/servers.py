"""A real app under a real uvicorn server in a background thread, which a test can stop and start again
(a service going down and coming back), on a fixed loopback port."""

from __future__ import annotations

import socket
import threading
import time

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
