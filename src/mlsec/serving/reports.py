"""What a model repository tells its service: events as they happen, and the loaded models and counters when
asked. The root of ModelRepository's layers (mlsec.serving.repository): it declares the state they share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlsec.serving.entry import Entry, version_order
from mlsec.serving.policy import ServingPolicy

logger = logging.getLogger("mlsec.serving.repository")


@dataclass(frozen=True)
class ServingEvent:
    """Something that happened to a model, for the service to log, count or persist."""

    kind: str  # "loaded" | "load_failed" | "unloaded" | "evicted" | "swapped"
    name: str
    version: str | None
    detail: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class LoadedInfo:
    """A loaded model version as the services report it."""

    name: str
    version: str
    aliases: list[str]
    size_bytes: int
    load_seconds: float
    loaded_at: datetime
    last_used_at: datetime | None
    requests: int
    task: str
    threshold: float | None
    classes: list[str]
    run_id: str | None
    inference: str  # "compiled" or "pipeline": see LoadedModel.inference


class Reporting:
    """Events, loaded models and counters of a repository."""

    _policy: ServingPolicy
    _on_event: Callable[[ServingEvent], None] | None
    _entries: dict[tuple[str, str], Entry]
    _bindings: dict[tuple[str, str], str]  # (name, alias) -> version
    _counts: dict[str, int]  # hits, misses, evictions, loads, load_failures, swaps

    def report_failure(self, name: str, version: str | None, detail: dict[str, Any]) -> None:
        """A load_failed event for something found outside the repository (a preloader, say)."""
        self._emit("load_failed", name, version, detail)

    def loaded(self) -> list[LoadedInfo]:
        aliases: dict[tuple[str, str], list[str]] = {}
        for (name, alias), version in self._bindings.items():
            aliases.setdefault((name, version), []).append(alias)
        infos: list[LoadedInfo] = []
        for entry in self._ready_entries():
            model = entry.model
            assert model is not None
            infos.append(
                LoadedInfo(
                    name=entry.name,
                    version=entry.version,
                    aliases=sorted(aliases.get(entry.key, [])),
                    size_bytes=model.size_bytes,
                    load_seconds=model.load_seconds,
                    loaded_at=model.loaded_at,
                    last_used_at=entry.last_used_at,
                    requests=entry.requests,
                    task=model.task,
                    threshold=model.threshold,
                    classes=list(model.classes),
                    run_id=model.run_id,
                    inference=model.inference,
                )
            )
        return sorted(infos, key=lambda info: (info.name, version_order(info.version)))

    def stats(self) -> dict[str, Any]:
        """Counters since start and per-model usage; times as ISO 8601 strings, so it serialises as is."""
        models: dict[str, Any] = {}
        for entry in self._ready_entries():
            assert entry.model is not None
            models[f"{entry.name}:{entry.version}"] = {
                "size_bytes": entry.model.size_bytes,
                "load_seconds": entry.model.load_seconds,
                "loaded_at": entry.model.loaded_at.isoformat(),
                "last_used_at": entry.last_used_at.isoformat() if entry.last_used_at else None,
                "requests": entry.requests,
                "hits": entry.hits,
            }
        return {
            **self._counts,
            "memory_used_bytes": self._memory_used(),
            "memory_budget_bytes": self._policy.memory_budget_bytes,
            "models": models,
        }

    def _ready_entries(self) -> list[Entry]:
        return [entry for entry in self._entries.values() if entry.model is not None]

    def _memory_used(self) -> int:
        return sum(entry.model.size_bytes for entry in self._ready_entries() if entry.model is not None)

    def _emit(self, kind: str, name: str, version: str | None, detail: dict[str, Any]) -> None:
        event = ServingEvent(kind=kind, name=name, version=version, detail=detail, at=datetime.now(UTC))
        level = logging.WARNING if kind == "load_failed" else logging.INFO
        logger.log(level, "serving.%s", kind, extra={"model": name, "version": version, **_log_safe(detail)})
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # a broken listener must not break serving
                logger.exception("serving.event_listener_failed", extra={"kind": kind})


def _log_safe(detail: Mapping[str, Any]) -> dict[str, Any]:
    """LogRecord attributes may not be overwritten (e.g. "msg"), so detail keys get a prefix."""
    return {f"detail_{key}": value for key, value in detail.items()}
