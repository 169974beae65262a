"""Settings shared by every service, read from the environment (and `.env`).

The seeds' variable names are honoured as they are (`MODEL_API_URL`, `REDIS_HOST`, `POSTGRES_URL`,
`MLFLOW_TRACKING_URI`, `LOG_LEVEL`, ...); everything of our own is prefixed `MLSEC_`.
`create_app(settings)` takes an instance, so tests build one directly instead of mutating the
environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mlsec import __version__
from mlsec.core.service_settings import ServiceSettings as ServiceSettings
from mlsec.core.service_settings import ServingSettings as ServingSettings
from mlsec.core.services import MLFLOW_DEFAULT_PORT, ServiceSpec, get_spec

ENV_PREFIX = "MLSEC_"
Port = int
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _env(*names: str) -> Any:
    """Accept a seed's variable name and our prefixed one for the same setting."""
    return AliasChoices(*names)


def _port(name: str, default: int) -> Any:
    return Field(default, ge=1, le=65535, validation_alias=_env(f"{ENV_PREFIX}{name}_PORT"))


def _url(*names: str) -> Any:
    return Field(None, validation_alias=_env(*names))


class Settings(BaseSettings):
    """The platform's configuration; one instance per process, built at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    home: Path = Field(Path(".mlsec"), description="Data directory: databases, MLflow store, logs.")
    host: str = Field(
        "127.0.0.1",
        validation_alias=_env("MLSEC_HOST", "SERVICE_HOST"),
        description="Bind address of every service.",
    )
    log_level: LogLevel = Field("INFO", validation_alias=_env("LOG_LEVEL", "MLSEC_LOG_LEVEL"))

    model_api_port: Port = _port("MODEL_API", 8000)
    training_port: Port = _port("TRAINING", 8002)
    model_cache_port: Port = _port("MODEL_CACHE", 8003)
    business_metrics_port: Port = _port("BUSINESS_METRICS", 8004)
    analytics_port: Port = _port("ANALYTICS", 8006)
    gateway_port: Port = _port("GATEWAY", 8007)
    data_privacy_port: Port = _port("DATA_PRIVACY", 8008)
    tracing_port: Port = _port("TRACING", 8009)
    control_tower_port: Port = _port("CONTROL_TOWER", 8010)
    mlflow_port: Port = _port("MLFLOW", MLFLOW_DEFAULT_PORT)

    model_api_url: str | None = _url("MODEL_API_URL", "MLSEC_MODEL_API_URL")
    training_url: str | None = _url("TRAINING_URL", "TRAINING_SERVICE_URL", "MLSEC_TRAINING_URL")
    model_cache_url: str | None = _url("MODEL_CACHE_URL", "MLSEC_MODEL_CACHE_URL")
    business_metrics_url: str | None = _url("BUSINESS_METRICS_URL", "MLSEC_BUSINESS_METRICS_URL")
    analytics_url: str | None = _url("ANALYTICS_URL", "ANALYTICS_SERVICE_URL", "MLSEC_ANALYTICS_URL")
    gateway_url: str | None = _url("GATEWAY_URL", "MLSEC_GATEWAY_URL")
    data_privacy_url: str | None = _url("DATA_PRIVACY_URL", "MLSEC_DATA_PRIVACY_URL")
    tracing_url: str | None = _url("TRACING_URL", "MLSEC_TRACING_URL")
    control_tower_url: str | None = _url("CONTROL_TOWER_URL", "MLSEC_CONTROL_TOWER_URL")
    mlflow_tracking_uri: str | None = _url("MLFLOW_TRACKING_URI", "MLFLOW_URL")

    database_url: str | None = Field(
        None,
        description="Database URL template with a `{service}` placeholder, e.g. "
        "postgresql+asyncpg://user@db:5432/mlsec_{service}. Wins over POSTGRES_URL.",
    )
    postgres_url: SecretStr | None = Field(None, validation_alias=_env("POSTGRES_URL"))
    postgres_host: str | None = Field(None, validation_alias=_env("POSTGRES_HOST"))
    postgres_port: Port = Field(5432, ge=1, le=65535, validation_alias=_env("POSTGRES_PORT"))
    postgres_user: str = Field("postgres", min_length=1, validation_alias=_env("POSTGRES_USER"))
    postgres_password: SecretStr | None = Field(None, validation_alias=_env("POSTGRES_PASSWORD"))
    database_prefix: str = Field("mlsec", pattern=r"^[a-z][a-z0-9_]{0,30}$")

    redis_url: SecretStr | None = Field(None, validation_alias=_env("REDIS_URL"))
    redis_host: str | None = Field(None, validation_alias=_env("REDIS_HOST"))
    redis_port: Port = Field(6379, ge=1, le=65535, validation_alias=_env("REDIS_PORT"))
    redis_db: int = Field(0, ge=0, le=15, validation_alias=_env("REDIS_DB"))
    redis_password: SecretStr | None = Field(None, validation_alias=_env("REDIS_PASSWORD"))
    cache_backend: Literal["auto", "memory", "redis"] = "auto"
    events_backend: Literal["auto", "http", "redis"] = "auto"

    http_timeout_default: float = Field(30.0, gt=0, le=3600)
    http_timeout_training: float = Field(300.0, gt=0, le=3600)
    http_timeout_prediction: float = Field(10.0, gt=0, le=3600)
    http_connect_timeout: float = Field(5.0, gt=0, le=300)
    http_retries: int = Field(3, ge=0, le=10)
    http_backoff_initial: float = Field(0.1, ge=0, le=60)
    http_backoff_max: float = Field(5.0, ge=0, le=300)
    http_retry_after_max: float = Field(10.0, ge=0, le=300)
    breaker_fail_max: int = Field(5, ge=1, le=1000)
    breaker_reset_timeout: float = Field(30.0, gt=0, le=3600)

    max_request_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Default limit of a request body.")
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT", "MLSEC_OTLP_ENDPOINT"),
        description="OTLP/HTTP collector (or Jaeger) that gets the spans instead of the tracing service.",
    )
    trace_export: bool = Field(
        True,
        description="Send every service's spans to the tracing service (or OTEL_EXPORTER_OTLP_ENDPOINT); off: none.",
    )
    trace_export_timeout: float = Field(2.0, gt=0, le=60, description="Longest one export of spans may take, seconds.")
    trace_export_queue: int = Field(
        2048, ge=16, le=1_000_000, description="Spans waiting for export at most; more are dropped and counted."
    )
    startup_timeout: float = Field(90.0, gt=0, le=3600)

    # --- Security: the internal service token and the API key of the CLI/SDK (docs/security.md) ----------
    service_token: SecretStr | None = Field(
        None,
        description="Shared secret every service requires in X-Mlsec-Service-Token when it binds a "
        "non-loopback address (and the gateway accepts for POST /events); at least 32 characters.",
    )
    api_key: SecretStr | None = Field(
        None, description="API key the CLI and SDK send to the gateway; else the one in MLSEC_HOME/credentials."
    )

    pii_hash_key: SecretStr | None = Field(
        None,
        description="Key of the keyed hashes of personal data (HMAC-SHA256), 64 hex characters, the same for every "
        "service; unset: made once in MLSEC_HOME/secrets/pii-keys (embedded mode).",
    )
    pii_encryption_key: SecretStr | None = Field(
        None,
        description="Key of the reversible `encrypt` operator (AES-256-GCM), 64 hex characters; unset: made once "
        "in MLSEC_HOME/secrets/pii-keys (embedded mode).",
    )

    @field_validator("service_token", "api_key")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        secret = value.get_secret_value().strip()
        if not secret.isprintable() or " " in secret or len(secret) > 512:
            raise ValueError("must be printable, without spaces, at most 512 characters")
        if info.field_name == "service_token" and len(secret) < 32:
            raise ValueError("must be at least 32 characters; make one with: openssl rand -hex 32")
        return SecretStr(secret)

    @field_validator("host")
    @classmethod
    def _host_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator(
        "model_api_url",
        "training_url",
        "model_cache_url",
        "business_metrics_url",
        "analytics_url",
        "gateway_url",
        "data_privacy_url",
        "tracing_url",
        "control_tower_url",
        "mlflow_tracking_uri",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"must be an http(s) URL such as http://127.0.0.1:8000, got {value!r}")
        return value.rstrip("/")

    @field_validator("postgres_url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        scheme = urlsplit(value.get_secret_value()).scheme
        if not scheme.startswith(("postgresql", "postgres")):
            raise ValueError(f"must be a postgresql:// URL, got scheme {scheme!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "{service}" not in value:
            raise ValueError("must contain a {service} placeholder: every service has its own database")
        return value

    # ----- derived values -------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The platform's version, reported by every service."""
        return __version__

    @property
    def public_host(self) -> str:
        """The address clients use to reach a service bound to `host` (the loopback of its family for a
        wildcard), as it goes in a URL: an IPv6 address in brackets."""
        if self.host in {"0.0.0.0", ""}:
            return "127.0.0.1"
        if self.host == "::":
            return "[::1]"
        return url_host(self.host)

    def port_for(self, service: str | ServiceSpec) -> int:
        """The port the given service listens on."""
        spec = service if isinstance(service, ServiceSpec) else get_spec(service)
        return int(getattr(self, f"{spec.key}_port"))

    def url_for(self, service: str | ServiceSpec) -> str:
        """The base URL of a service: the explicit `<SERVICE>_URL`, else host and port."""
        spec = service if isinstance(service, ServiceSpec) else get_spec(service)
        explicit: str | None = getattr(self, f"{spec.key}_url")
        return explicit or f"http://{self.public_host}:{self.port_for(spec)}"

    @property
    def mlflow_managed(self) -> bool:
        """True when `mlsec up` starts MLflow itself (no external tracking URI configured)."""
        return self.mlflow_tracking_uri is None

    @property
    def mlflow_uri(self) -> str:
        """The MLflow tracking server every service talks to."""
        return self.mlflow_tracking_uri or f"http://{self.public_host}:{self.mlflow_port}"

    @property
    def redis_dsn(self) -> str | None:
        """The Redis URL from REDIS_URL, or built from REDIS_HOST/PORT/DB; None when unset."""
        if self.redis_url is not None and self.redis_url.get_secret_value():
            return self.redis_url.get_secret_value()
        if not self.redis_host:
            return None
        auth = f":{self.redis_password.get_secret_value()}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def uses_redis_cache(self) -> bool:
        """Whether the cache and rate limits live in Redis (else in process memory)."""
        return self.cache_backend == "redis" or (self.cache_backend == "auto" and self.redis_dsn is not None)

    @property
    def uses_redis_events(self) -> bool:
        """Whether events go through Redis pub/sub (else HTTP to the gateway)."""
        return self.events_backend == "redis" or (self.events_backend == "auto" and self.redis_dsn is not None)

    def database_url_for(self, service: str | ServiceSpec) -> str:
        """The SQLAlchemy async URL of one service's own database."""
        spec = service if isinstance(service, ServiceSpec) else get_spec(service)
        if self.database_url:
            return self.database_url.format(service=spec.key)
        server = self.postgres_server_url
        if server is not None:
            return postgres_url_for_database(server, f"{self.database_prefix}_{spec.key}")
        return f"sqlite+aiosqlite:///{self.home.resolve() / 'db' / f'{spec.key}.db'}"

    @property
    def postgres_server_url(self) -> str | None:
        """The PostgreSQL server from POSTGRES_URL, or built from POSTGRES_HOST/PORT/USER/PASSWORD."""
        if self.postgres_url is not None:
            return self.postgres_url.get_secret_value()
        if not self.postgres_host:
            return None
        user = quote(self.postgres_user, safe="")
        if self.postgres_password is not None:
            user += ":" + quote(self.postgres_password.get_secret_value(), safe="")
        return f"postgresql://{user}@{self.postgres_host}:{self.postgres_port}/postgres"

    @property
    def logs_dir(self) -> Path:
        """Where `mlsec up` writes one log file per service."""
        return self.home / "logs"


def url_host(host: str) -> str:
    """A host as a URL names it: an IPv6 address in brackets (RFC 3986), anything else as it is."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def postgres_url_for_database(server_url: str, database: str) -> str:
    """Point a PostgreSQL URL at another database and at the asyncpg driver."""
    parts = urlsplit(server_url)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{database}", parts.query, ""))


def env_name(field_name: str) -> str:
    """The environment variable a user sets for a settings field (the first one accepted)."""
    field = Settings.model_fields[field_name]
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"{ENV_PREFIX}{field_name.upper()}"


class ConfigurationError(Exception):
    """Bad configuration, phrased as one line that names the setting to fix."""


def describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's report into one line per bad setting, named by its variable."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = env_name(field) if field in Settings.model_fields else field
        lines.append(f"{name}: {error['msg']}")
    return "; ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, raising a one-line ConfigurationError when invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid configuration: {describe_validation_error(exc)}") from None


def mask_url(url: str) -> str:
    """Hide the password of a URL (`postgresql://u:***@host/db`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def effective_settings(settings: Settings) -> dict[str, str]:
    """Every setting by its variable name, secrets masked, for `mlsec config`."""
    shown: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            text = mask_url(value.get_secret_value()) if "://" in value.get_secret_value() else "***"
        elif value is None:
            text = ""
        else:
            text = mask_url(str(value)) if "://" in str(value) else str(value)
        shown[env_name(name)] = text
    return shown
