"""Ctrl-C stops the session's platform (conftest.py) and leaves nothing: no process, no port, no token.

The last user of that platform, after test_up.py and test_up_chaos.py: its processes are the ones the
launcher runs now, restarted ones included."""

from __future__ import annotations

import signal
import socket

import psutil
import pytest

from tests.platform_support import Platform

pytestmark = pytest.mark.e2e


def _port_is_listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_ctrl_c_stops_everything_and_leaves_nothing(shared_platform: Platform) -> None:
    running = shared_platform.running
    children = psutil.Process(running.process.pid).children(recursive=True)
    assert children
    running.process.send_signal(signal.SIGINT)
    assert running.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == [], [p.pid for p in alive]
    assert not any(_port_is_listening(port) for port in shared_platform.ports.values())
    assert sorted(path.name for path in (shared_platform.home / "run").iterdir()) == []  # token and state go too
