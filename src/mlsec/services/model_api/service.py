"""The model API's domain logic beyond predictions: loading and warming models."""

from __future__ import annotations

import time

from mlsec.services.model_api.schemas import WarmCacheResponse
from mlsec.serving.errors import NotLoadedError
from mlsec.serving.http_schemas import LoadedModelRead, loaded_read
from mlsec.serving.repository import LoadedInfo
from mlsec.serving.state import ServingState

WARM_UP_TEXT = "Warm-up request: is this text a prompt injection?"


def info_of(serving: ServingState, name: str, version: str) -> LoadedInfo:
    """The repository's view of one loaded version."""
    info = next((i for i in serving.repository.loaded() if i.name == name and i.version == version), None)
    if info is None:  # evicted or swapped away between the load and this look
        raise NotLoadedError(f"{name} version {version} is no longer loaded")
    return info


async def load_and_describe(serving: ServingState, name: str, version: str | None) -> LoadedModelRead:
    model = await serving.repository.load(name, version)
    return loaded_read(info_of(serving, model.name, model.version))


async def warm(serving: ServingState, name: str) -> WarmCacheResponse:
    started = time.perf_counter()
    model = await serving.repository.load(name, None)
    loaded_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    if model.input_columns == ["text"]:
        await serving.repository.predict_many(name, [WARM_UP_TEXT], version=model.version)
    predict_ms = (time.perf_counter() - started) * 1000
    return WarmCacheResponse(
        model_name=name, model_version=model.version, load_ms=round(loaded_ms, 3), warm_predict_ms=round(predict_ms, 3)
    )
