"""Settings of the model API (prefix MLSEC_MODEL_API_)."""

from pydantic_settings import SettingsConfigDict

from mlsec.core.settings import ServingSettings

PREFIX = "MLSEC_MODEL_API_"


class ModelApiSettings(ServingSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX)
