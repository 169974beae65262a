"""Checks made before anything starts, each failing with one line that names the setting to fix."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from mlsec.core.cache import create_redis
from mlsec.core.database import Database, ensure_database
from mlsec.core.services import ServiceSpec
from mlsec.core.settings import ConfigurationError, Settings, env_name, mask_url


def port_is_free(host: str, port: int) -> bool:
    """Whether something could listen on host:port now (a port in TIME_WAIT counts as free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise ConfigurationError(f"cannot bind {host}:{port} (setting MLSEC_HOST): {exc.strerror}") from None
    return True


def check_ports(settings: Settings, services: Iterable[ServiceSpec], *, mlflow: bool) -> None:
    """Every port we are about to listen on is free and not given twice."""
    wanted = [(spec.name, settings.port_for(spec), env_name(f"{spec.key}_port")) for spec in services]
    if mlflow:
        wanted.append(("mlflow", settings.mlflow_port, env_name("mlflow_port")))
    seen: dict[int, str] = {}
    for name, port, setting in wanted:
        if port in seen:
            raise ConfigurationError(f"port {port} is given to both {seen[port]} and {name} (setting {setting})")
        seen[port] = name
        if not port_is_free(settings.host, port):
            raise ConfigurationError(f"port {port} for {name} on {settings.host} is already in use (setting {setting})")


def database_setting(settings: Settings) -> str:
    """The variable that decides where service databases live."""
    if settings.database_url:
        return "MLSEC_DATABASE_URL"
    if settings.postgres_url is not None:
        return "POSTGRES_URL"
    return "POSTGRES_HOST" if settings.postgres_host else "MLSEC_HOME"


async def check_database(settings: Settings, spec: ServiceSpec) -> None:
    """The service's database can be created (if missing) and answers."""
    url = settings.database_url_for(spec)
    db = None
    try:
        await ensure_database(url)
        db = Database(url)
        await db.ping()
    except Exception as exc:
        shown = mask_url(make_url(url).render_as_string(hide_password=False))
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ConfigurationError(
            f"cannot reach the {spec.name} database at {shown} (setting {database_setting(settings)}): "
            f"{type(exc).__name__}: {reason}"
        ) from None
    finally:
        if db is not None:
            await db.dispose()


async def check_redis(settings: Settings) -> None:
    """Redis answers, when the settings ask for it."""
    dsn = settings.redis_dsn
    if dsn is None or not (settings.uses_redis_cache or settings.uses_redis_events):
        return
    redis = create_redis(dsn)
    try:
        await redis.ping()
    except Exception as exc:
        setting = "REDIS_URL" if settings.redis_url is not None else "REDIS_HOST"
        raise ConfigurationError(f"cannot reach Redis at {mask_url(dsn)} (setting {setting}): {exc}") from None
    finally:
        await redis.aclose()
