"""Settings honour the seeds' variable names and explain bad values by variable name."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mlsec.core.services import SERVICES
from mlsec.core.settings import ConfigurationError, Settings, effective_settings, load_settings


def test_defaults_bind_loopback_and_use_the_seed_ports(settings: Settings) -> None:
    assert settings.host == "127.0.0.1"
    assert settings.url_for("model-api") == "http://127.0.0.1:8000"
    assert settings.url_for("gateway") == "http://127.0.0.1:8007"
    assert settings.url_for("control-tower") == "http://127.0.0.1:8010"
    assert settings.mlflow_uri == "http://127.0.0.1:5000"
    assert settings.mlflow_managed
    assert not settings.uses_redis_cache
    assert not settings.uses_redis_events


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("::1", "http://[::1]:8000"),
        ("::", "http://[::1]:8000"),
        ("fd00::5", "http://[fd00::5]:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("10.1.2.3", "http://10.1.2.3:8000"),
    ],
)
def test_urls_of_ipv6_hosts_put_the_address_in_brackets(tmp_path: Path, host: str, url: str) -> None:
    settings = Settings(_env_file=None, home=tmp_path, host=host, service_token="t" * 32)
    assert settings.url_for("model-api") == url
    assert settings.mlflow_uri == url.replace(":8000", ":5000")
    assert httpx.URL(settings.url_for("gateway")).port == 8007


@pytest.mark.parametrize(
    ("variable", "service"),
    [
        ("MODEL_API_URL", "model-api"),
        ("TRAINING_URL", "training"),
        ("TRAINING_SERVICE_URL", "training"),
        ("MODEL_CACHE_URL", "model-cache"),
        ("BUSINESS_METRICS_URL", "business-metrics"),
        ("ANALYTICS_URL", "analytics"),
        ("ANALYTICS_SERVICE_URL", "analytics"),
        ("DATA_PRIVACY_URL", "data-privacy"),
        ("TRACING_URL", "tracing"),
    ],
)
def test_seed_service_url_variables(monkeypatch: pytest.MonkeyPatch, variable: str, service: str) -> None:
    monkeypatch.setenv(variable, "http://svc.internal:9999/")
    assert load_settings().url_for(service) == "http://svc.internal:9999"


@pytest.mark.parametrize("variable", ["MLFLOW_TRACKING_URI", "MLFLOW_URL"])
def test_external_mlflow_is_not_managed(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "http://mlflow.internal:5000")
    settings = load_settings()
    assert settings.mlflow_uri == "http://mlflow.internal:5000"
    assert not settings.mlflow_managed


def test_redis_from_host_port_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "cache.internal")
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("REDIS_DB", "2")
    settings = load_settings()
    assert settings.redis_dsn == "redis://cache.internal:6380/2"
    assert settings.uses_redis_cache and settings.uses_redis_events


def test_redis_url_wins_and_backends_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    monkeypatch.setenv("REDIS_HOST", "ignored")
    monkeypatch.setenv("MLSEC_EVENTS_BACKEND", "http")
    settings = load_settings()
    assert settings.redis_dsn == "redis://r:6379/0"
    assert settings.uses_redis_cache
    assert not settings.uses_redis_events


def test_one_database_per_service(tmp_path: Path) -> None:
    sqlite = Settings(_env_file=None, home=tmp_path)
    urls = {sqlite.database_url_for(spec) for spec in SERVICES}
    assert len(urls) == len(SERVICES)
    assert sqlite.database_url_for("model-api") == f"sqlite+aiosqlite:///{tmp_path.resolve()}/db/model_api.db"


def test_postgres_url_gives_each_service_its_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_URL", "postgresql://mlflow:secret@db:5432/ml_security_consolidated")
    settings = load_settings()
    assert settings.database_url_for("training") == "postgresql+asyncpg://mlflow:secret@db:5432/mlsec_training"
    assert settings.database_url_for("gateway").endswith("/mlsec_gateway")


def test_postgres_host_variables_build_the_server_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_HOST", "pg.internal")
    monkeypatch.setenv("POSTGRES_PORT", "5433")
    monkeypatch.setenv("POSTGRES_USER", "mlflow")
    monkeypatch.setenv("POSTGRES_PASSWORD", "p@ss/word")
    settings = load_settings()
    assert settings.database_url_for("analytics") == (
        "postgresql+asyncpg://mlflow:p%40ss%2Fword@pg.internal:5433/mlsec_analytics"
    )
    assert "p@ss/word" not in str(effective_settings(settings))


def test_database_url_template_needs_a_service_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSEC_DATABASE_URL", "postgresql+asyncpg://u@db/one_for_all")
    with pytest.raises(ConfigurationError, match=r"MLSEC_DATABASE_URL: .*\{service\}"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MLSEC_GATEWAY_PORT", "abc", "MLSEC_GATEWAY_PORT"),
        ("MLSEC_MODEL_API_PORT", "70000", "MLSEC_MODEL_API_PORT"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("MODEL_API_URL", "ftp://x", "MODEL_API_URL"),
        ("POSTGRES_URL", "mysql://x/y", "POSTGRES_URL"),
        ("REDIS_DB", "-1", "REDIS_DB"),
    ],
)
def test_invalid_values_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("invalid configuration: ")
    assert named in message
    assert "\n" not in message


def test_effective_settings_mask_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_URL", "postgresql://admin:hunter2@db:5432/x")
    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    shown = effective_settings(load_settings())
    assert shown["POSTGRES_URL"] == "postgresql://admin:***@db:5432/x"
    assert shown["REDIS_PASSWORD"] == "***"
    assert "hunter2" not in str(shown) and "s3cret" not in str(shown)
    assert shown["MLSEC_MODEL_API_PORT"] == "8000"
