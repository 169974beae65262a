"""The model repository on a real MLflow registry: on-demand loading, caching, eviction, preload, hot swap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from prometheus_client import CollectorRegistry

import mlsec.serving.registry as registry_module
from mlsec.core.errors import InvalidInputError
from mlsec.serving import (
    ModelNotFoundError,
    ModelRepository,
    NotLoadedError,
    RegistryUnavailableError,
    ServingEvent,
    ServingPolicy,
    VersionNotFoundError,
)
from mlsec.serving.preload import Preloader
from tests.unit.serving.conftest import BENIGN, INJECTION, Registry

pytestmark = pytest.mark.anyio
RepositoryFactory = Callable[..., ModelRepository]


class Events(list[ServingEvent]):
    def kinds(self, name: str | None = None) -> list[tuple[str, str | None]]:
        return [(e.kind, e.version) for e in self if name is None or e.name == name]

    async def wait_for(self, kind: str, name: str, within: float = 5.0) -> ServingEvent:
        with anyio.fail_after(within):
            while True:
                for event in self:
                    if event.kind == kind and event.name == name:
                        return event
                await asyncio.sleep(0.02)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
async def make_repository(
    registry: Registry, metrics_registry: CollectorRegistry, events: Events
) -> AsyncIterator[RepositoryFactory]:
    """Repositories on the session registry, closed at the end of the test."""
    made: list[ModelRepository] = []

    def make(**overrides: Any) -> ModelRepository:
        options: dict[str, Any] = {
            "policy": ServingPolicy(),
            "registry": metrics_registry if not made else CollectorRegistry(),
            "alias_poll_seconds": 3600.0,
            "on_event": events.append,
            **overrides,
        }
        repository = ModelRepository(registry.uri, **options)
        made.append(repository)
        return repository

    yield make
    for repository in made:
        await repository.close()


async def test_on_demand_load_is_a_miss_then_hits(make_repository: RepositoryFactory, events: Events) -> None:
    repo = make_repository()
    model, prediction = await repo.predict_one("text-a", INJECTION)
    assert (model.name, model.version) == ("text-a", "1")
    assert prediction.label == 1
    assert prediction.probabilities is not None
    for _ in range(3):
        model, prediction = await repo.predict_one("text-a", BENIGN)
        assert prediction.label == 0
    stats = repo.stats()
    assert (stats["hits"], stats["misses"], stats["loads"]) == (3, 1, 1)
    assert stats["models"]["text-a:1"]["requests"] == 4
    assert stats["models"]["text-a:1"]["hits"] == 3
    assert stats["memory_used_bytes"] == model.size_bytes
    assert stats["memory_budget_bytes"] is None
    assert events.kinds() == [("loaded", "1")]
    [info] = repo.loaded()
    assert (info.name, info.version, info.aliases, info.requests) == ("text-a", "1", ["champion"], 4)
    assert info.last_used_at is not None
    assert info.task == "text_classification"
    assert info.classes == ["0", "1"]


async def test_versions_and_aliases_are_distinct_models(make_repository: RepositoryFactory) -> None:
    repo = make_repository()
    assert (await repo.predict_one("text-a", BENIGN, version="challenger"))[0].version == "2"
    assert (await repo.predict_one("text-a", BENIGN, version="2"))[0].version == "2"
    assert (await repo.predict_one("text-a", BENIGN, version="1"))[0].version == "1"
    assert repo.stats()["loads"] == 2
    assert [(i.version, i.aliases) for i in repo.loaded()] == [("1", []), ("2", ["challenger"])]
    with pytest.raises(ModelNotFoundError):
        await repo.predict_one("nope", BENIGN)
    with pytest.raises(VersionNotFoundError):
        await repo.predict_one("text-a", BENIGN, version="7")
    with pytest.raises(VersionNotFoundError):
        await repo.predict_one("text-a", BENIGN, version="staging")


async def test_alias_resolution_is_cached(make_repository: RepositoryFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str | None]] = []
    resolve = registry_module.resolve_version

    def counting(uri: str, name: str, version: str | None, **kwargs: Any) -> str:
        calls.append((name, version))
        return resolve(uri, name, version, **kwargs)

    monkeypatch.setattr("mlsec.serving.acquire.resolve_version", counting)
    repo = make_repository()
    await asyncio.gather(*(repo.predict_one("text-a", BENIGN) for _ in range(10)))
    for _ in range(10):
        await repo.predict_one("text-a", BENIGN)
    await repo.predict_many("text-a", [BENIGN, INJECTION])
    assert calls == [("text-a", "champion")]


async def test_concurrent_first_requests_share_one_load(make_repository: RepositoryFactory, events: Events) -> None:
    repo = make_repository()
    results = await asyncio.gather(*(repo.predict_one("text-b", INJECTION) for _ in range(12)))
    assert {model.version for model, _ in results} == {"1"}
    assert all(prediction.label == 1 for _, prediction in results)
    stats = repo.stats()
    assert stats["loads"] == 1
    assert stats["misses"] == 12
    assert stats["hits"] == 0
    assert events.kinds() == [("loaded", "1")]
    await repo.predict_one("text-b", INJECTION)
    assert repo.stats()["hits"] == 1


async def test_predict_many_keeps_order_and_checks_input(make_repository: RepositoryFactory) -> None:
    repo = make_repository(max_batch=2)
    model, predictions = await repo.predict_many("text-a", [INJECTION, BENIGN, INJECTION, BENIGN, BENIGN])
    assert [p.label for p in predictions] == [1, 0, 1, 0, 0]
    assert model.version == "1"
    assert (await repo.predict_many("text-a", []))[1] == []
    with pytest.raises(InvalidInputError, match="takes text"):
        await repo.predict_one("text-a", {"text": BENIGN})
    with pytest.raises(InvalidInputError, match="takes records"):
        await repo.predict_one("tab-clf", BENIGN)
    with pytest.raises(InvalidInputError):
        await repo.predict_many("text-a", [BENIGN, 3])


async def test_tabular_models_and_bad_rows_fail_alone(make_repository: RepositoryFactory) -> None:
    repo = make_repository(max_wait=0.05)
    model, prediction = await repo.predict_one("tab-clf", {"x1": 2.0, "x2": 0.0, "colour": "red"})
    assert model.task == "tabular_classification"
    assert prediction.label == "high"
    assert prediction.score is not None
    assert prediction.score > 0.5
    rows: list[dict[str, Any]] = [{"x1": float(i), "x2": 1.0, "colour": "blue"} for i in range(-2, 3)]
    rows[2] = {"x1": "not a number", "x2": 1.0, "colour": "blue"}
    results = await asyncio.gather(*(repo.predict_one("tab-reg", row) for row in rows), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["tuple", "tuple", "InvalidInputError", "tuple", "tuple"]
    labels = [r[1].label for r in results if isinstance(r, tuple)]
    assert all(isinstance(label, float) for label in labels)
    assert labels == sorted(labels)  # the regressor grows with x1


async def test_unload_and_clear(make_repository: RepositoryFactory, events: Events) -> None:
    repo = make_repository()
    await repo.load("text-a")
    await repo.load("text-a", "2")
    await repo.load("text-b")
    assert await repo.unload("text-a", "champion") == ["1"]
    with pytest.raises(NotLoadedError, match="'text-a' alias 'champion' is not loaded"):
        await repo.unload("text-a", "champion")
    with pytest.raises(NotLoadedError):
        await repo.unload("tab-clf")
    assert await repo.unload("text-a") == ["2"]
    with pytest.raises(NotLoadedError, match="'text-a' is not loaded"):
        await repo.unload("text-a")
    assert events.kinds("text-a") == [("loaded", "1"), ("loaded", "2"), ("unloaded", "1"), ("unloaded", "2")]
    model, _ = await repo.predict_one("text-a", BENIGN)  # comes back on demand
    assert model.version == "1"
    assert repo.stats()["misses"] == 1
    assert await repo.clear() == [("text-a", "1"), ("text-b", "1")]
    assert repo.loaded() == []
    assert repo.stats()["memory_used_bytes"] == 0


async def test_unload_waits_for_requests_in_flight(make_repository: RepositoryFactory) -> None:
    repo = make_repository()
    await repo.load("text-a")
    requests = [asyncio.ensure_future(repo.predict_one("text-a", BENIGN)) for _ in range(20)]
    await asyncio.sleep(0)
    assert await repo.unload("text-a") == ["1"]
    assert all(task.done() for task in requests)
    assert all(task.result()[1].label == 0 for task in requests)


async def test_lru_eviction_over_the_memory_budget(make_repository: RepositoryFactory, events: Events) -> None:
    repo = make_repository(policy=ServingPolicy(memory_budget_bytes=1))
    await repo.predict_one("text-a", BENIGN)
    assert [i.name for i in repo.loaded()] == ["text-a"]  # the only model stays, even over budget
    await repo.predict_one("text-b", BENIGN)
    assert [i.name for i in repo.loaded()] == ["text-b"]
    evicted = await events.wait_for("evicted", "text-a")
    assert evicted.version == "1"
    assert evicted.detail["reason"] == "memory budget"
    assert repo.stats()["evictions"] == 1
    await repo.predict_one("text-a", BENIGN)  # back on demand; text-b goes
    assert [i.name for i in repo.loaded()] == ["text-a"]
    assert repo.stats()["evictions"] == 2


async def test_least_recently_used_goes_first(make_repository: RepositoryFactory, events: Events) -> None:
    repo = make_repository()
    for name in ("text-a", "text-b", "tab-clf"):
        await repo.load(name)
    await repo.predict_one("text-a", BENIGN)  # text-b is now the least recently used
    sizes = {info.name: info.size_bytes for info in repo.loaded()}
    repo.set_policy(ServingPolicy(memory_budget_bytes=sum(sizes.values()) - 1))
    assert repo.policy.memory_budget_bytes == sum(sizes.values()) - 1
    assert sorted(i.name for i in repo.loaded()) == ["tab-clf", "text-a"]
    assert [e.name for e in events if e.kind == "evicted"] == ["text-b"]


async def test_idle_models_are_evicted(make_repository: RepositoryFactory, events: Events) -> None:
    repo = make_repository(policy=ServingPolicy(idle_ttl_seconds=0.3))
    await repo.start()
    await repo.predict_one("text-a", BENIGN)
    event = await events.wait_for("evicted", "text-a")
    assert event.detail["reason"] == "idle"
    assert repo.loaded() == []
    assert repo.stats()["evictions"] == 1


async def test_preload_champions_survives_a_broken_model(
    make_repository: RepositoryFactory, registry: Registry, events: Events
) -> None:
    from mlsec.serving import registered_champions

    repo = make_repository(policy=ServingPolicy(preload=["text-a", "missing"], preload_champions=True))
    preloader = Preloader(repo)
    champions = set(registered_champions(registry.uri))
    assert set(await preloader.preload()) == champions - {"broken"}
    assert {info.name for info in repo.loaded()} == champions - {"broken"}
    failed = {(e.name, e.version) for e in events if e.kind == "load_failed"}
    assert failed == {("broken", "1"), ("missing", None)}
    assert all(info.aliases == ["champion"] for info in repo.loaded())
    assert repo.stats()["load_failures"] == 1
    assert repo.stats()["misses"] == 0  # preloading is not a request

    # Preloading again (the champion poll) loads nothing new, does not retry the broken version, and does
    # not report the missing model again.
    assert await preloader.preload() == []
    assert repo.stats()["load_failures"] == 1
    assert sum(e.kind == "load_failed" for e in events) == 2


async def test_preload_raises_while_the_registry_is_down_and_a_poll_reports_it_once(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    repo = ModelRepository(
        "http://127.0.0.1:1",
        policy=ServingPolicy(preload_champions=True),
        registry=CollectorRegistry(),
        on_event=events.append,
    )
    preloader = Preloader(repo)
    try:
        for _ in range(2):
            with pytest.raises(RegistryUnavailableError):
                await preloader.preload()
        assert events == []  # the start-up task that calls it reports the outage (pending, with the error)
        for _ in range(3):
            await preloader.poll()
    finally:
        await repo.close()
    assert [(e.kind, e.name) for e in events] == [("load_failed", "*")]  # one event per outage, not per poll


async def test_a_model_that_becomes_champion_is_preloaded_before_its_first_request(
    make_repository: RepositoryFactory, registry: Registry, events: Events
) -> None:
    repo = make_repository(policy=ServingPolicy(preload_champions=True))
    preloader = Preloader(repo, champion_poll_seconds=0.2)
    client = registry.client()
    client.delete_registered_model_alias("text-b", "champion")
    try:
        await preloader.preload()
        assert "text-b" not in {info.name for info in repo.loaded()}
        preloader.start()
        await anyio.to_thread.run_sync(registry.set_alias, "text-b", "champion", "1")
        await events.wait_for("loaded", "text-b")
    finally:
        await preloader.close()
        registry.set_alias("text-b", "champion", "1")
    assert repo.stats()["misses"] == 0


async def test_hot_swap_under_traffic(make_repository: RepositoryFactory, registry: Registry, events: Events) -> None:
    repo = make_repository(max_wait=0.001)
    registry.set_alias("swap", "champion", "1")
    await repo.load("swap")
    seen: list[list[str]] = [[] for _ in range(4)]
    failures: list[BaseException] = []
    texts = [INJECTION, BENIGN]

    async def traffic(index: int, until: float) -> None:
        while time.monotonic() < until:
            try:
                model, prediction = await repo.predict_one("swap", texts[len(seen[index]) % 2])
                assert prediction.label in (0, 1)
                seen[index].append(model.version)
            except BaseException as exc:  # any failure at all is a test failure
                failures.append(exc)
                raise

    until = time.monotonic() + 2.0
    try:
        async with anyio.create_task_group() as group:
            for index in range(4):
                group.start_soon(traffic, index, until)
            await asyncio.sleep(0.6)
            await anyio.to_thread.run_sync(registry.set_alias, "swap", "champion", "2")
            await repo.refresh_aliases()
    finally:
        registry.set_alias("swap", "champion", "1")
    assert failures == []
    for versions in seen:
        assert versions[0] == "1"
        assert versions[-1] == "2"
        assert versions == sorted(versions)  # never back to v1 once a task saw v2
    assert [(i.version, i.aliases) for i in repo.loaded()] == [("2", ["champion"])]
    swapped = [e for e in events if e.kind == "swapped"]
    assert len(swapped) == 1
    assert swapped[0].detail == {"alias": "champion", "from": "1", "to": "2", "was_loaded": True}
    assert events.kinds("swap") == [("loaded", "1"), ("loaded", "2"), ("swapped", "2"), ("unloaded", "1")]
    assert repo.stats()["swaps"] == 1


async def test_a_swap_keeps_versions_loaded_by_number(make_repository: RepositoryFactory, registry: Registry) -> None:
    repo = make_repository()
    await repo.predict_one("text-a", BENIGN, version="1")  # explicitly by number
    await repo.predict_one("text-a", BENIGN)  # and through the champion alias
    try:
        registry.set_alias("text-a", "champion", "2")
        await repo.refresh_aliases()
        assert (await repo.predict_one("text-a", BENIGN))[0].version == "2"
        assert [(i.version, i.aliases) for i in repo.loaded()] == [("1", []), ("2", ["champion"])]
    finally:
        registry.set_alias("text-a", "champion", "1")
    await repo.refresh_aliases()
    assert [(i.version, i.aliases) for i in repo.loaded()] == [("1", ["champion"])]  # v2 was only aliased


async def test_a_registry_outage_keeps_serving(
    make_repository: RepositoryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repository()
    await repo.predict_one("text-a", BENIGN)

    def down(*args: Any, **kwargs: Any) -> str:
        raise RegistryUnavailableError("The MLflow registry is unavailable: test")

    monkeypatch.setattr("mlsec.serving.hot_swap.resolve_version", down)
    await repo.refresh_aliases()
    assert (await repo.predict_one("text-a", BENIGN))[0].version == "1"


async def test_a_swap_under_a_tiny_budget_does_not_evict_the_serving_version(
    make_repository: RepositoryFactory, registry: Registry, events: Events
) -> None:
    repo = make_repository(policy=ServingPolicy(memory_budget_bytes=1))
    await repo.predict_one("text-a", BENIGN)
    try:
        registry.set_alias("text-a", "champion", "2")
        await repo.refresh_aliases()
    finally:
        registry.set_alias("text-a", "champion", "1")
    assert events.kinds("text-a") == [("loaded", "1"), ("loaded", "2"), ("swapped", "2"), ("unloaded", "1")]
    assert [i.version for i in repo.loaded()] == ["2"]
