"""What a serving service loads before anyone asks: the models its policy names and every champion.

The model cache runs `Preloader.preload` as a start-up task (retried until MLflow answers), then `poll` every
`champion_poll_seconds`, so that a model that becomes champion while the service runs (the default model
trained on a first start, say) is loaded before its first request too. The repository keeps what is loaded;
this module only decides what to load ahead.

What is not tried again: a model evicted since it was preloaded (it comes back on its next request), and a
version whose files cannot be loaded while MLflow answers (until its alias moves). A name with no version at
the default alias is tried at every poll, but reported once.
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.to_thread

from mlsec.core.background import Periodic
from mlsec.serving.errors import ModelLoadError, RegistryUnavailableError, ServingError
from mlsec.serving.registry import registered_champions, resolve_version
from mlsec.serving.repository import ModelRepository

PRELOAD_CONCURRENCY = 4


class Preloader:
    """Loads, at the default alias, every model the repository's policy names that has never been bound."""

    def __init__(self, repository: ModelRepository, *, champion_poll_seconds: float = 30.0):
        self.repository = repository
        self._lock = asyncio.Lock()
        self._registry_down = False
        self._unresolved: set[str] = set()  # names that had no version at the default alias
        self._schedule = Periodic("serving-preload-poll", self._scheduled_poll, interval=champion_poll_seconds)

    @property
    def champion_poll_seconds(self) -> float:
        return self._schedule.interval

    @property
    def active(self) -> bool:
        """Whether the policy names models to load before they are asked for."""
        policy = self.repository.policy
        return bool(policy.preload) or policy.preload_champions

    async def preload(self) -> list[str]:
        """Load what is wanted and not bound yet; the names loaded. Raises RegistryUnavailableError when MLflow
        does not answer (the caller tries again later). One call at a time: a second finds what the first
        loaded, so calling it often costs one registry listing."""
        async with self._lock:
            names = await self._wanted()
            outcomes: dict[str, BaseException | None] = {}
            limiter = anyio.CapacityLimiter(PRELOAD_CONCURRENCY)

            async def preload_one(name: str) -> None:
                async with limiter:
                    outcomes[name] = await self._preload_one(name)

            async with anyio.create_task_group() as group:
                for name in names:
                    group.start_soon(preload_one, name)
        unavailable = [exc for exc in outcomes.values() if isinstance(exc, RegistryUnavailableError)]
        if unavailable:
            raise unavailable[0]
        return [name for name, outcome in outcomes.items() if outcome is None]

    async def poll(self) -> None:
        """`preload`, reporting a registry outage once (a load_failed event for "*"), not at every poll."""
        try:
            await self.preload()
        except RegistryUnavailableError as exc:  # MLflow is down: the next poll tries again
            if not self._registry_down:
                self.repository.report_failure("*", None, {"error": str(exc), "stage": "listing champions"})
            self._registry_down = True
            return
        self._registry_down = False

    def start(self) -> None:
        """Poll every `champion_poll_seconds` while the policy preloads (a failed poll is logged, the next runs)."""
        self._schedule.start()

    async def close(self) -> None:
        await self._schedule.stop()

    async def _scheduled_poll(self) -> None:
        if self.active:  # the policy is read at every round: it may stop or start preloading meanwhile
            await self.poll()

    async def _wanted(self) -> list[str]:
        repository = self.repository
        names = list(dict.fromkeys(repository.policy.preload))
        if repository.policy.preload_champions:
            champions = await anyio.to_thread.run_sync(
                registered_champions, repository.tracking_uri, repository.default_alias
            )
            names.extend(name for name in champions if name not in names)
        return [name for name in names if not repository.is_bound(name)]

    async def _preload_one(self, name: str) -> BaseException | None:
        """Load one model at the default alias; the error (None when loaded). A load that fails while MLflow
        is down is unbound again, so that the next preload tries it once more."""
        repository = self.repository
        try:
            await repository.load(name)
        except ModelLoadError as exc:  # the repository reported it; is MLflow down, or are the files broken?
            try:
                await anyio.to_thread.run_sync(resolve_version, repository.tracking_uri, name, repository.default_alias)
            except RegistryUnavailableError as down:
                repository.unbind(name)
                return down
            except ServingError:
                pass
            return exc
        except RegistryUnavailableError as exc:
            return exc  # an outage: the caller reports it and tries again
        except ServingError as exc:  # not registered, or no such alias: maybe later; reported once
            if name not in self._unresolved:
                self._unresolved.add(name)
                repository.report_failure(name, None, {"error": str(exc), "stage": "resolving"})
            return exc
        self._unresolved.discard(name)
        return None
