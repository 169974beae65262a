"""The serving engine shared by the model API and the model cache.

Loading from the MLflow registry, version and alias resolution, micro-batching, prediction and hot swap
live here once; the two services differ only in the ServingPolicy they pass to ModelRepository. This
package imports `mlsec.ml` and third-party libraries only, never the platform's service code, and
raises plain exceptions (mlsec.serving.errors) that each service maps to HTTP.
"""

from mlsec.serving.batcher import BatchMetrics, MicroBatcher
from mlsec.serving.errors import (
    InvalidInputError,
    ModelLoadError,
    ModelNotFoundError,
    NotLoadedError,
    RegistryUnavailableError,
    ServingError,
    VersionNotFoundError,
)
from mlsec.serving.model import LoadedModel, Prediction, load_model, registered_champions, resolve_version
from mlsec.serving.preload import Preloader
from mlsec.serving.repository import LoadedInfo, ModelRepository, ServingEvent, ServingPolicy

__all__ = [
    "BatchMetrics",
    "InvalidInputError",
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
