"""Bad configuration stops start-up with one line that names the setting."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlsec.core.services import SERVICES, get_spec
from mlsec.core.settings import ConfigurationError, Settings
from mlsec.launcher.preflight import check_database, check_ports, check_redis, port_is_free
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_port_in_use_names_the_service_and_setting(settings: Settings, busy_port: int) -> None:
    assert not port_is_free("127.0.0.1", busy_port)
    crowded = settings.model_copy(update={"tracing_port": busy_port})
    with pytest.raises(
        ConfigurationError, match=rf"port {busy_port} for tracing .* in use \(setting MLSEC_TRACING_PORT\)"
    ):
        check_ports(crowded, SERVICES, mlflow=False)


def test_the_same_port_twice_is_refused(settings: Settings) -> None:
    clash = settings.model_copy(update={"gateway_port": 8000})
    with pytest.raises(ConfigurationError, match="port 8000 is given to both model-api and gateway"):
        check_ports(clash, SERVICES, mlflow=False)


async def test_unreachable_postgres_names_postgres_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, postgres_url="postgresql://admin:hunter2@127.0.0.1:1/x")
    with pytest.raises(ConfigurationError) as caught:
        await check_database(settings, get_spec("training"))
    message = str(caught.value)
    assert "(setting POSTGRES_URL)" in message
    assert "hunter2" not in message and "admin:***@" in message
    assert "\n" not in message


async def test_unreachable_redis_names_redis_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(ConfigurationError, match=r"cannot reach Redis .*\(setting REDIS_URL\)"):
        await check_redis(settings)


async def test_sqlite_database_is_created_under_home(settings: Settings) -> None:
    await check_database(settings, get_spec("analytics"))
    assert (settings.home / "db" / "analytics.db").exists()
