"""What the running analytics service holds: its context, settings, the SDK and its background work."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.core.background import BackgroundTasks
from mlsec.services.analytics.service.notify import Notifier
from mlsec.services.analytics.service.references import ReferenceCache
from mlsec.services.analytics.settings import AnalyticsSettings


@dataclass
class Analytics:
    """Built in the lifespan; routes reach it through `AnalyticsDep`."""

    ctx: ServiceContext
    settings: AnalyticsSettings
    sdk: MainAPIClient
    notifier: Notifier
    references: ReferenceCache = field(default_factory=ReferenceCache)
    background: BackgroundTasks = field(default_factory=lambda: BackgroundTasks("analytics"))
    last_check_at: datetime | None = None
    retrain_worker: asyncio.Task[Any] | None = None

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run work in the background, kept referenced until done; a failure is logged, never lost."""
        return self.background.spawn(coroutine, name)

    async def close(self) -> None:
        """Cancel the background work (the monitor, the retrain worker) and wait until it has stopped."""
        await self.background.close()
