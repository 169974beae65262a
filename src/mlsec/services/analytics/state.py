"""What the running analytics service holds: its context, settings, the SDK and its background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.services.analytics.service.notify import Notifier
from mlsec.services.analytics.service.references import ReferenceCache
from mlsec.services.analytics.settings import AnalyticsSettings

logger = logging.getLogger("mlsec.analytics")


@dataclass
class Analytics:
    """Built in the lifespan; routes reach it through `AnalyticsDep`."""

    ctx: ServiceContext
    settings: AnalyticsSettings
    sdk: MainAPIClient
    notifier: Notifier
    references: ReferenceCache = field(default_factory=ReferenceCache)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    last_check_at: datetime | None = None
    retrain_worker: asyncio.Task[Any] | None = None

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run work in the background, kept referenced until done; a failure is logged, never lost."""
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("analytics.task.failed", extra={"task": task.get_name(), "error_type": type(exc).__name__})

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
