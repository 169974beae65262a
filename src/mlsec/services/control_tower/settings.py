"""Settings of the control tower (prefix MLSEC_CONTROL_TOWER_; seed 004's names are honoured as they are).

`MLFLOW_TRACKING_URI` and `LOG_LEVEL` are the platform's own settings (mlsec.core.settings). The seed's API_HOST
and API_PORT are the platform's MLSEC_HOST and MLSEC_CONTROL_TOWER_PORT (its port 8000 belongs to the model API).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServiceSettings


def _seed(name: str) -> AliasChoices:
    """Seed 004's variable name first, then ours."""
    return AliasChoices(name, f"MLSEC_CONTROL_TOWER_{name}")


class ControlTowerSettings(ServiceSettings):
    """The registry cache (refresh, persistence, limits), MLflow's credentials and the seed's feature flags."""

    model_config = SettingsConfigDict(env_prefix="MLSEC_CONTROL_TOWER_")

    mlflow_username: str | None = Field(
        None, validation_alias=AliasChoices("MLFLOW_TRACKING_USERNAME", "MLSEC_CONTROL_TOWER_MLFLOW_USERNAME")
    )
    mlflow_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("MLFLOW_TRACKING_PASSWORD", "MLSEC_CONTROL_TOWER_MLFLOW_PASSWORD")
    )
    enable_cache: bool = Field(
        True,
        validation_alias=_seed("ENABLE_CACHE"),
        description="Keep a snapshot of the registry; false: every answer reads MLflow (slow, never stale).",
    )
    cache_refresh_interval_minutes: float = Field(
        30.0, gt=0, le=24 * 60, validation_alias=_seed("CACHE_REFRESH_INTERVAL_MINUTES")
    )
    cache_timeout_seconds: float = Field(
        300.0,
        gt=0,
        le=3600,
        validation_alias=_seed("CACHE_TIMEOUT_SECONDS"),
        description="Longest one refresh may take.",
    )
    max_models_returned: int = Field(
        1000, ge=1, le=100_000, validation_alias=_seed("MAX_MODELS_RETURNED"), description="Longest model list."
    )
    enable_cache_persistence: bool = Field(True, validation_alias=_seed("ENABLE_CACHE_PERSISTENCE"))
    cache_directory: Path | None = Field(
        None,
        validation_alias=_seed("CACHE_DIRECTORY"),
        description="Where the snapshot file is kept; unset: MLSEC_HOME/control-tower.",
    )
    cache_max_age_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 365,
        validation_alias=_seed("CACHE_MAX_AGE_HOURS"),
        description="A snapshot file older than this is served at start (marked stale), never trusted as fresh.",
    )
    enable_debug_endpoints: bool = Field(True, validation_alias=_seed("ENABLE_DEBUG_ENDPOINTS"))
    enable_mock_data: bool = Field(
        False,
        validation_alias=_seed("ENABLE_MOCK_DATA"),
        description="Refused: the platform serves only real data (`mlsec train` makes real models).",
    )
    runs_kept_per_experiment: int = Field(
        1000, ge=1, le=50_000, description="Newest runs of each experiment kept in the snapshot for /runs."
    )
    event_refresh: bool = Field(
        True, description="Refresh a model at once when the platform's events say a version or an alias changed."
    )

    def cache_file(self, home: Path) -> Path:
        """The snapshot file: CACHE_DIRECTORY's, else under MLSEC_HOME."""
        return (self.cache_directory or home / "control-tower") / "registry-snapshot.json"


MOCK_DATA_REFUSED = (
    "ENABLE_MOCK_DATA=true is refused: the control tower serves only real data from MLflow. "
    "Register a real model with `mlsec train` (or `mlsec up`, which trains the default one) and unset ENABLE_MOCK_DATA."
)
