"""Settings of the gateway (prefix MLSEC_GATEWAY_; the seed's names where it has them)."""

from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from mlsec.core.auth import MIN_JWT_SECRET_BYTES
from mlsec.core.ratelimit import parse_limit
from mlsec.core.settings import ServiceSettings

PREFIX = "MLSEC_GATEWAY_"


class GatewaySettings(ServiceSettings):
    """What only the gateway reads: live updates, security, response caching."""

    model_config = SettingsConfigDict(env_prefix=PREFIX)

    # --- Response cache of proxied GETs -------------------------------------------------------------------
    stale_seconds: float = Field(
        86_400.0,
        gt=0,
        le=30 * 86_400,
        description="Seconds the last good answer of a cached GET is kept, served stale while its service is down.",
    )
    max_predict_texts: int = Field(1_000, ge=1, le=100_000, description="Most texts in one gateway /predict/batch.")
    max_upload_bytes: int = Field(
        5 * 1024**3, ge=1024, description="Largest dataset upload forwarded to training (which has its own limit)."
    )
    anonymize_prompts: bool = Field(
        False,
        description="Replace personal data in every prediction text bound for the model API or cache by its type "
        "(<EMAIL_ADDRESS>) before a model sees it; costs a PII scan per text.",
    )

    # --- WebSocket (/ws) ---------------------------------------------------------------------------------
    enable_websocket: bool = Field(
        True,
        validation_alias=AliasChoices("ENABLE_WEBSOCKET", f"{PREFIX}ENABLE_WEBSOCKET"),
        description="Serve the /ws live-update endpoint.",
    )
    websocket_cleanup_interval: float = Field(
        300.0,
        gt=0,
        le=86_400,
        validation_alias=AliasChoices("WEBSOCKET_CLEANUP_INTERVAL", f"{PREFIX}WEBSOCKET_CLEANUP_INTERVAL"),
        description="Seconds between sweeps that send every WebSocket client a heartbeat, so dead ones are closed.",
    )
    ws_queue: int = Field(256, ge=1, le=100_000, description="Messages waiting at most per WebSocket client.")
    ws_max_clients: int = Field(1_000, ge=1, le=100_000, description="Most WebSocket clients at once.")
    ws_max_lag: int = Field(
        1_000,
        ge=1,
        le=1_000_000,
        description="Messages a WebSocket client may lose in a row (its queue full) before it is closed with 1013.",
    )
    ws_send_timeout: float = Field(
        10.0, gt=0, le=300, description="Seconds one message may take to reach a client before it is closed (1013)."
    )
    ws_max_topics: int = Field(32, ge=1, le=1_000, description="Topics one WebSocket client may subscribe to.")
    health_poll_seconds: float = Field(
        15.0, gt=0, le=3600, description="How often the gateway checks every service for /ws health changes."
    )

    # --- Security: authentication, authorisation, rate limits, CORS (docs/security.md) ---------------------
    auth_enabled: bool = Field(
        True, description="Require a key or token on every non-public route. Off: for local experiments only."
    )
    jwt_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("JWT_SECRET", f"{PREFIX}JWT_SECRET"),
        description="HS256 key of the gateway's tokens (>= 32 bytes); unset: generated once, kept in its database.",
    )
    jwt_ttl_seconds: int = Field(3600, ge=60, le=7 * 86_400, description="Lifetime of a token from POST /auth/token.")
    session_ttl_seconds: int = Field(
        8 * 3600, ge=300, le=7 * 86_400, description="Lifetime of a dashboard sign-in (its HttpOnly session cookie)."
    )
    session_cookie_secure: bool = Field(
        False, description="Mark the session cookie Secure (always so when the request came over HTTPS)."
    )
    rate_limit_viewer: str = Field("600/minute", description="Requests per viewer key or user (sliding window).")
    # Operator keys are what applications predict with: sized for serving traffic, not for dashboards.
    rate_limit_operator: str = Field("60000/minute", description="Requests per operator key or user.")
    rate_limit_admin: str = Field("60000/minute", description="Requests per admin key or user.")
    rate_limit_login: str = Field(
        "60/minute", description="Token requests and uncached credential checks per client address (brute force)."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("CORS_ORIGINS", f"{PREFIX}CORS_ORIGINS"),
        description='Origins allowed to call from a browser, a JSON list (["https://ops.example"]); none by default.',
    )
    auth_cache_seconds: float = Field(
        60.0, ge=0, le=3600, description="Seconds a verified key (or a token's subject) is trusted before a re-check."
    )
    argon2_time_cost: int = Field(3, ge=1, le=20, description="argon2id passes when hashing a new key or password.")
    argon2_memory_kib: int = Field(65_536, ge=8, le=4 * 1024**2, description="argon2id memory (KiB) per hash.")
    argon2_parallelism: int = Field(4, ge=1, le=64, description="argon2id lanes per hash.")

    @field_validator("rate_limit_viewer", "rate_limit_operator", "rate_limit_admin", "rate_limit_login")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_limit(value)
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_BYTES} bytes; make one with: openssl rand -hex 32")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"}:
                raise ValueError(f"an origin is scheme://host[:port] or '*', got {origin!r}")
        return [origin.rstrip("/") for origin in value]
