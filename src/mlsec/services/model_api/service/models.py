"""The model API's models beyond predictions: what is registered and loaded, loading and warming them."""

from __future__ import annotations

import time

import anyio

from mlsec.services.model_api.schemas.models import (
    BatchLoadResponse,
    LoadRequest,
    LoadResult,
    ModelDetail,
    WarmCacheResponse,
)
from mlsec.serving.errors import NotLoadedError, ServingError
from mlsec.serving.http_schemas import LoadedModelRead, loaded_read
from mlsec.serving.registry import resolve_version
from mlsec.serving.reports import LoadedInfo
from mlsec.serving.state import ServingState

WARM_UP_TEXT = "Warm-up request: is this text a prompt injection?"


def get_all(serving: ServingState) -> list[LoadedModelRead]:
    """The models loaded now, with their versions, aliases and usage."""
    return [loaded_read(info) for info in serving.repository.loaded()]


async def get_or_raise(serving: ServingState, name: str) -> ModelDetail:
    """One model: the version its default alias points to, and which versions are loaded; ModelNotFoundError
    (404) when it is not registered."""
    alias = serving.settings.default_alias
    version = await anyio.to_thread.run_sync(
        lambda: resolve_version(serving.repository.tracking_uri, name, None, default_alias=alias)
    )
    loaded = [loaded_read(i) for i in serving.repository.loaded() if i.name == name]
    return ModelDetail(
        name=name, default_alias=alias, default_version=version, loaded=bool(loaded), loaded_versions=loaded
    )


def get_loaded_or_raise(serving: ServingState, name: str, version: str) -> LoadedInfo:
    """The repository's view of one loaded version."""
    info = next((i for i in serving.repository.loaded() if i.name == name and i.version == version), None)
    if info is None:  # evicted or swapped away between the load and this look
        raise NotLoadedError(f"{name} version {version} is no longer loaded")
    return info


async def load_and_describe(serving: ServingState, name: str, version: str | None) -> LoadedModelRead:
    model = await serving.repository.load(name, version)
    return loaded_read(get_loaded_or_raise(serving, model.name, model.version))


async def batch_load(serving: ServingState, requests: list[LoadRequest]) -> BatchLoadResponse:
    """Load several models; each one's failure is reported without stopping the others."""
    results = []
    for item in requests:
        try:
            model = await load_and_describe(serving, item.model_name, item.version)
        except ServingError as exc:
            results.append(
                LoadResult(model_name=item.model_name, version=item.version, status="failed", error=str(exc))
            )
        else:
            results.append(LoadResult(model_name=item.model_name, version=model.version, status="loaded", model=model))
    failed = sum(r.status == "failed" for r in results)
    return BatchLoadResponse(results=results, loaded=len(results) - failed, failed=failed)


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
