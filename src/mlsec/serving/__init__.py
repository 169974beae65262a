"""The serving engine shared by the model API and the model cache.

This package is the layer between `mlsec.core`/`mlsec.ml` and the two serving services, and imports `core`
and `ml` only (and third-party libraries), never a service or the SDK. Loading from the MLflow registry,
version and alias resolution, micro-batching, prediction, hot swap, preloading, the prediction log and its
per-second summaries, and the prediction routes both services expose live here once; the two services
differ only in the ServingPolicy they pass to ModelRepository. Its errors subclass `mlsec.core.errors`
(mlsec.serving.errors), so core's one handler renders them.
"""

from mlsec.serving.batcher import BatchMetrics, MicroBatcher
from mlsec.serving.errors import (
    ModelLoadError,
    ModelNotFoundError,
    NotLoadedError,
    RegistryUnavailableError,
    ServingError,
    VersionNotFoundError,
)
from mlsec.serving.loader import load_model
from mlsec.serving.model import LoadedModel, Prediction
from mlsec.serving.policy import ServingPolicy
from mlsec.serving.preload import Preloader
from mlsec.serving.registry import registered_champions, resolve_version
from mlsec.serving.reports import LoadedInfo, ServingEvent
from mlsec.serving.repository import ModelRepository

__all__ = [
    "BatchMetrics",
    "LoadedInfo",
    "LoadedModel",
    "MicroBatcher",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelRepository",
    "NotLoadedError",
    "Prediction",
    "Preloader",
    "RegistryUnavailableError",
    "ServingError",
    "ServingEvent",
    "ServingPolicy",
    "VersionNotFoundError",
    "load_model",
    "registered_champions",
    "resolve_version",
]
