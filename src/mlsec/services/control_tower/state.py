"""What the running control tower holds: the registry cache and its views, the monitored set, the SDK (for the
analytics service's performance), the event subscription and its background work."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import httpx

from mlsec.client import MainAPIClient
from mlsec.core.app import ServiceContext
from mlsec.core.background import BackgroundTasks
from mlsec.core.events import Event
from mlsec.core.subscription import EventSubscription
from mlsec.services.control_tower.errors import RegistryUnavailableError
from mlsec.services.control_tower.service.cache import RegistryCache
from mlsec.services.control_tower.service.reader import RegistryReader
from mlsec.services.control_tower.service.snapshot import Snapshot
from mlsec.services.control_tower.service.views import VersionKey, Views
from mlsec.services.control_tower.settings import ControlTowerSettings

logger = logging.getLogger("mlsec.control_tower")
# Events after which a model's versions or aliases may have changed: a training job registered a version (and
# gave it an alias), a promotion moved champion.
REFRESHING_EVENTS = frozenset({("training", "job.result"), ("promotions", "promotion.promoted")})
TOPICS = frozenset(topic for topic, _ in REFRESHING_EVENTS)
FOLLOW_UP_SECONDS = 15.0  # after an event, when the full read that recounts experiments and runs follows


@dataclass
class ControlTower:
    """Built in the lifespan; routes reach it through `ControlTowerDep`."""

    ctx: ServiceContext
    settings: ControlTowerSettings
    sdk: MainAPIClient
    reader: RegistryReader
    cache: RegistryCache
    mlflow_http: httpx.AsyncClient
    monitored_types: dict[VersionKey, str] = field(default_factory=dict)
    views: Views | None = None
    subscription: EventSubscription | None = None
    background: BackgroundTasks = field(default_factory=lambda: BackgroundTasks("control-tower"))
    started: float = field(default_factory=time.monotonic)
    follow_up: asyncio.Task[None] | None = None

    def rebuild(self, snapshot: Snapshot | None = None) -> None:
        """Recompute the answers from the current snapshot and monitored set (after either changes)."""
        snapshot = snapshot or self.cache.snapshot
        if snapshot is not None:
            self.views = Views.build(snapshot, self.monitored_types, self.settings.max_models_returned)

    async def current_views(self) -> Views:
        """The views to answer from: the cached ones, or with ENABLE_CACHE=false a read of MLflow now."""
        if not self.settings.enable_cache:
            try:
                snapshot = await self.reader.read_all()
            except Exception as exc:
                raise RegistryUnavailableError(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
            return Views.build(snapshot, self.monitored_types, self.settings.max_models_returned)
        if self.views is None:  # the cache installs a snapshot through `rebuild`; none yet: the 503 that says why
            self.views = Views.build(self.cache.current(), self.monitored_types, self.settings.max_models_returned)
        return self.views

    async def on_event(self, event: Event) -> None:
        """Refresh the model an event names at once, in the background (the subscription keeps reading), then
        everything once a little later: a new run also changes its experiment's run count, which only a full
        read counts. Events in a burst share that one full read."""
        name = event.payload.get("model_name")
        if (event.topic, event.type) in REFRESHING_EVENTS and isinstance(name, str) and self.settings.enable_cache:
            self.background.spawn(self.cache.refresh_model(name), f"refresh-model:{name}")
            if self.follow_up is None or self.follow_up.done():
                self.follow_up = self.background.spawn(self._refresh_all_later(), "refresh-after-events")

    async def _refresh_all_later(self) -> None:
        await asyncio.sleep(FOLLOW_UP_SECONDS)
        await self.cache.refresh_quietly()

    async def close(self) -> None:
        if self.subscription is not None:
            await self.subscription.stop()
        await self.cache.stop()
        await self.background.close()
        await self.mlflow_http.aclose()
