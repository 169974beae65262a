"""The cache's contents, as the serving engine's repository holds them: the models loaded and its counters."""

from __future__ import annotations

from typing import Any

from mlsec.serving.http_schemas import LoadedModelRead, loaded_read
from mlsec.serving.state import ServingState


def hit_rate(stats: dict[str, Any]) -> float | None:
    """Hits over requests since start (None before the first request)."""
    total = stats["hits"] + stats["misses"]
    return round(stats["hits"] / total, 4) if total else None


def get_all(serving: ServingState, *, name: str | None = None, version: str | None = None) -> list[LoadedModelRead]:
    """The cached models: every one, or those of one name (and version)."""
    return [
        loaded_read(info)
        for info in serving.repository.loaded()
        if (name is None or info.name == name) and (version is None or info.version == version)
    ]
