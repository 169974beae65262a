"""Settings of the model cache (prefix MLSEC_MODEL_CACHE_); PUT /config overrides the policy at run time."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServingSettings

PREFIX = "MLSEC_MODEL_CACHE_"


class ModelCacheSettings(ServingSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX)

    memory_budget_mb: float = Field(1024, gt=0, description="Models over this size in all: the least recently used go.")
    idle_ttl_seconds: float | None = Field(None, gt=0, description="Unload a model unused this long; none: never.")
    preload: list[str] = Field(default_factory=list, description="Models loaded at start-up, beside the champions.")
    preload_champions: bool = Field(True, description="Load every registered model's champion at start-up.")
