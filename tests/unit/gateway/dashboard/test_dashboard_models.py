"""The models page through HTTP: the registry with metrics and MLflow links, champion beside challenger, the
promotion ledger, what the serving services have loaded; write controls only for operators and admins; a service
that does not answer makes its part say "unavailable" instead of failing the page.

A unit test of the page's loaders and templates: where it needs a service to answer, the SDK's method is
replaced by a double built from that service's own schemas (the real platform's answers are the browser
tests' part, tests/browser/)."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec.core.auth import Role
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio
WHEN = "2024-05-01T12:00:00Z"
RUNS: dict[str, dict[str, Any]] = {
    "run-two": {"experiment_id": "7", "metrics": {"f1": 0.91, "accuracy": 0.93, "roc_auc": 0.97}},
    "run-one": {"experiment_id": "7", "metrics": {"f1": 0.88, "accuracy": 0.9}},
}


def _version(version: str, aliases: list[str], run_id: str | None) -> dict[str, Any]:
    return {
        "version": version,
        "status": "READY",
        "stage": "None",
        "aliases": aliases,
        "run_id": run_id,
        "source": f"models:/m-{version}",
        "created_at": WHEN,
        "tags": {},
    }


REGISTRY: dict[str, Any] = {
    "models": [
        {
            "name": "prompt-guard",
            "description": None,
            "aliases": {"champion": "1", "challenger": "2"},
            "tags": {},
            "latest_version": "2",
            "champion_version": "1",
            "challenger_version": "2",
            "updated_at": WHEN,
            "versions": [_version("2", ["challenger"], "run-two"), _version("1", ["champion"], "run-one")],
        }
    ],
    "count": 1,
    "refreshed_at": WHEN,
    "tracking_uri": "http://mlflow.internal:5000",
}
LEDGER: dict[str, Any] = {
    "model_name": "prompt-guard",
    "records": [
        {
            "id": 3,
            "created_at": WHEN,
            "model_name": "prompt-guard",
            "action": "rejected",
            "champion_before": "1",
            "champion_after": "1",
            "challenger_version": "2",
            "actor": "api_key:abc",
            "retrain_request_id": None,
            "drift_run_id": None,
            "summary": "f1 gain below 0.01",
            "evidence": {},
        }
    ],
    "total": 1,
    "limit": 10,
    "offset": 0,
}
LOADED: dict[str, Any] = {
    "name": "prompt-guard",
    "version": "1",
    "aliases": ["champion"],
    "task": "binary",
    "threshold": 0.5,
    "classes": ["benign", "injection"],
    "run_id": "run-one",
    "size_bytes": 3 * 1048576,
    "load_seconds": 0.2,
    "loaded_at": WHEN,
    "last_used_at": None,
    "requests": 12,
    "inference": "compiled",
}
STATS: dict[str, Any] = {
    "hits": 30,
    "misses": 10,
    "hit_rate": 0.75,
    "evictions": 0,
    "loads": 1,
    "load_failures": 0,
    "swaps": 0,
    "memory_used_bytes": 3 * 1048576,
    "memory_budget_bytes": None,
    "models": {},
}


def _answer(value: Any) -> Any:
    async def answer(*args: Any, **kwargs: Any) -> Any:
        return value

    return answer


def _serve_platform(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, Any]]) -> None:
    """The SDK of the running gateway answers as a platform with one model (champion 1, challenger 2) would."""
    sdk = gateway.app.state.sdk

    async def registry(*, refresh: bool = False) -> dict[str, Any]:
        calls.append(("registry", refresh))
        return REGISTRY

    async def get_run(run_id: str) -> dict[str, Any]:
        run = RUNS[run_id]
        metrics = [{"key": key, "value": value, "step": 0, "timestamp": 0} for key, value in run["metrics"].items()]
        return {
            "run": {"info": {"run_id": run_id, "experiment_id": run["experiment_id"]}, "data": {"metrics": metrics}}
        }

    monkeypatch.setattr(sdk.training, "get_model_registry", registry)
    monkeypatch.setattr(sdk.mlflow, "get_run", get_run)
    monkeypatch.setattr(sdk.analytics, "get_promotion_ledger", _answer(LEDGER))
    monkeypatch.setattr(sdk.model_api, "get_models", _answer({"models": [LOADED], "count": 1, "default_model": "x"}))
    monkeypatch.setattr(sdk.model_cache, "get_models", _answer({"models": [LOADED], "count": 1}))
    monkeypatch.setattr(sdk.model_cache, "get_stats", _answer(STATS))


async def test_a_viewer_sees_the_page_without_write_controls_and_every_part_unavailable(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    page = await gateway.http.get("/ui/models")
    assert page.status_code == 200 and '<main id="content" data-page="models"' in page.text
    assert "<title>Models" in page.text and 'data-topics="models,promotions,training"' in page.text
    for element in ('id="models"', 'id="champion-challenger"', 'id="ledger"', 'id="cache"'):
        assert element in page.text, element
    assert "Registry unavailable" in page.text and "unavailable" in page.text  # nothing runs here
    assert "write-control" not in page.text and "admin-control" not in page.text
    assert 'src="/static/pages/models.js"' in page.text


async def test_an_operator_gets_the_load_control(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    page = await gateway.http.get("/ui/models")
    assert page.status_code == 200
    assert 'class="load-model write-control"' in page.text and 'for="load-model-name"' in page.text
    assert "admin-control" not in page.text


async def test_the_page_shows_versions_metrics_run_links_and_the_ledger(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Any]] = []
    _serve_platform(gateway, monkeypatch, calls)
    await sign_in_as(gateway, Role.ADMIN)
    page = await gateway.http.get("/ui/models")
    assert page.status_code == 200
    text = page.text
    assert 'data-model="prompt-guard" data-version="2"' in text and 'data-model="prompt-guard" data-version="1"' in text
    mlflow = gateway.app.state.ctx.settings.mlflow_uri.rstrip("/")
    assert f'class="mlflow-run" href="{mlflow}/#/experiments/7/runs/run-two"' in text
    assert "0.910" in text and "roc_auc" in text  # the challenger's metrics, read from its run
    assert "Champion v1" in text and "Challenger v2" in text and "+0.0300" in text  # f1: 0.91 - 0.88
    assert "f1 gain below 0.01" in text and 'data-action="rejected"' in text
    assert 'class="unload-model write-control secondary" type="button" data-service="model-cache"' in text
    assert 'data-service="model-api" data-model="prompt-guard" data-version="1"' in text
    assert 'data-stat="hit_rate">75.0%' in text
    assert 'value="prompt-guard"' in text  # the load form names the champion's model
    assert calls == [("registry", False)]


async def test_partials_render_and_fresh_asks_the_registry_to_read_mlflow(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Any]] = []
    _serve_platform(gateway, monkeypatch, calls)
    await sign_in_as(gateway, Role.VIEWER)
    registered = await gateway.http.get("/ui/models/partials/registered", params={"fresh": "1"})
    assert registered.status_code == 200 and 'id="models"' in registered.text and "<html" not in registered.text
    assert calls == [("registry", True)]
    duel = await gateway.http.get("/ui/models/partials/champion-challenger")
    assert duel.status_code == 200 and 'data-metric="f1"' in duel.text
    ledger = await gateway.http.get("/ui/models/partials/ledger")
    assert ledger.status_code == 200 and 'data-record="3"' in ledger.text
    cache = await gateway.http.get("/ui/models/partials/cache")
    assert cache.status_code == 200 and 'data-stat="hits">30' in cache.text
    assert "write-control" not in cache.text  # a viewer's parts carry no controls either


async def test_a_run_mlflow_does_not_answer_still_links_to_it(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk = gateway.app.state.sdk
    monkeypatch.setattr(sdk.training, "get_model_registry", _answer(REGISTRY))  # MLflow itself stays unreachable
    await sign_in_as(gateway, Role.VIEWER)
    part = await gateway.http.get("/ui/models/partials/registered")
    assert part.status_code == 200
    mlflow = gateway.app.state.ctx.settings.mlflow_uri.rstrip("/")
    assert f'href="{mlflow}/#/runs/run-one"' in part.text and "Metrics unavailable" in part.text


async def test_unavailable_parts_render(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.OPERATOR)
    for name in ("registered", "champion-challenger", "ledger", "cache"):
        response = await gateway.http.get(f"/ui/models/partials/{name}")
        assert response.status_code == 200, name
        assert "unavailable" in response.text, name
