"""`/red-team/*` on a real model API (a real MLflow server, a trained and registered detector) and a real
gateway receiving the analytics events; uploads and read-outs on the analytics service alone."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlsec.ml.redteam import SEED_PROMPTS, TECHNIQUES, generate_attacks, run_suite
from mlsec.services.analytics.app import create_app
from mlsec.services.gateway.app import create_app as create_gateway
from mlsec.services.gateway.settings import GatewaySettings
from mlsec.services.model_api.app import create_app as create_model_api
from mlsec.services.model_api.settings import ModelApiSettings
from tests.api.analytics.conftest import analytics_settings
from tests.conftest import make_settings, started_client
from tests.servers import ThreadedServer, free_port

pytestmark = pytest.mark.anyio
MODEL = "redteam-detector"
FAST = ["plain", "instruction_override", "base64"]


@pytest.fixture(scope="module")
def versions(registered: Callable[..., str]) -> tuple[str, str]:
    """Two versions of one detector: the first is the champion, the second the challenger."""
    return registered(MODEL, seed=0), registered(MODEL, seed=1)


@pytest.fixture(scope="module")
def servers(
    mlflow_server: str, versions: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The model API (batches limited to 20 texts, fewer than analytics sends) and a gateway taking events."""
    settings = make_settings(tmp_path_factory.mktemp("redteam-serving"), mlflow_tracking_uri=mlflow_server)
    own = ModelApiSettings(_env_file=None, default_model=MODEL, max_batch_items=20, alias_poll_seconds=30.0)
    api = ThreadedServer(create_model_api(settings, own)).start()
    gateway = ThreadedServer(create_gateway(settings, GatewaySettings(_env_file=None, auth_enabled=False))).start()
    yield {"model_api_url": api.url, "gateway_url": gateway.url}
    api.stop()
    gateway.stop()


async def _analytics(tmp_path: Path, **urls: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path / "home", http_retries=0, http_backoff_initial=0.0, **urls)
    async for client in started_client(create_app(settings, analytics_settings())):
        yield client


@pytest.fixture
async def attacking(tmp_path: Path, servers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Analytics whose model API and gateway are the real ones above."""
    async for client in _analytics(tmp_path, **servers):
        yield client


def assert_consistent(run: dict[str, Any]) -> None:
    techniques = run["techniques"]
    assert run["attempts"] == sum(t["attempts"] for t in techniques) > 0
    assert run["detected"] == sum(t["detected"] for t in techniques)
    assert run["detection_rate"] == pytest.approx(run["detected"] / run["attempts"])
    for t in techniques:
        assert 0 <= t["detected"] <= t["attempts"]
        assert t["detection_rate"] == pytest.approx(t["detected"] / t["attempts"])
        assert t["evaded_total"] == t["attempts"] - t["detected"]
        assert len(t["evaded_examples"]) == min(t["evaded_total"], 20)


def local_report(techniques: list[str], *, seed: int = 1, keyword: str = "password") -> dict[str, Any]:
    """A report made outside the service, by a rule that flags one word (as `mlsec redteam` would upload)."""
    attacks = generate_attacks(SEED_PROMPTS, techniques, seed=seed)
    return run_suite(lambda texts: ["1" if keyword in t.lower() else "0" for t in texts], attacks).to_dict()


async def upload(client: httpx.AsyncClient, model: str, version: str, report: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/red-team/results", json={"model_name": model, "model_version": version, "report": report}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def event_of(gateway_url: str, run_id: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=gateway_url) as gateway:
        for _ in range(100):
            events = (await gateway.get("/events", params={"topic": "redteam"})).json()["events"]
            found = [e for e in events if e["payload"].get("run_id") == run_id]
            if found:
                return dict(found[0])
            await asyncio.sleep(0.05)
    raise AssertionError(f"no redteam event for run {run_id}")


async def test_a_run_attacks_the_served_champion_and_is_stored(
    attacking: httpx.AsyncClient, servers: dict[str, str], versions: tuple[str, str]
) -> None:
    body = {"model_name": MODEL, "techniques": FAST, "variants_per_seed": 2, "seed": 3}
    response = await attacking.post("/red-team/run", json=body)
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["model_name"], run["model_version"], run["source"]) == (MODEL, versions[0], "run")
    assert [t["technique"] for t in run["techniques"]] == FAST
    assert run["attempts"] == len(generate_attacks(SEED_PROMPTS, FAST, variants_per_seed=2, seed=3))
    assert_consistent(run)
    assert run["config"]["variants_per_seed"] == 2
    assert run["baseline_detection_rate"] == run["techniques"][0]["detection_rate"]

    evaded = [e["prompt"] for t in run["techniques"] for e in t["evaded_examples"]]
    async with httpx.AsyncClient(base_url=servers["model_api_url"]) as api:
        for start in range(0, len(evaded), 20):  # the model API itself does not flag what the run says evaded
            answer = (await api.post("/predict/batch", json={"texts": evaded[start : start + 20]})).json()
            assert all(str(p["label"]) != "1" for p in answer["predictions"])

    stored = (await attacking.get(f"/red-team/runs/{run['id']}")).json()
    assert stored == run
    event = await event_of(servers["gateway_url"], run["id"])
    assert (event["type"], event["source"]) == ("redteam.completed", "analytics")
    assert event["payload"]["detection_rate"] == run["detection_rate"]
    assert not any(prompt in json.dumps(event) for prompt in evaded)


@pytest.mark.parametrize(("version", "index"), [("challenger", 1), ("2", 1), ("1", 0)])
async def test_a_run_records_the_version_that_answered(
    attacking: httpx.AsyncClient, versions: tuple[str, str], version: str, index: int
) -> None:
    body = {"model_name": MODEL, "version": version, "techniques": ["plain"]}
    run = (await attacking.post("/red-team/run", json=body)).json()
    assert run["model_version"] == versions[index]
    assert run["config"]["requested_version"] == version
    assert run["attempts"] == len(SEED_PROMPTS)


async def test_summary_trends_and_patterns_follow_the_runs(
    attacking: httpx.AsyncClient, versions: tuple[str, str]
) -> None:
    techniques = ["plain", "hex", "roleplay"]
    first, second = [
        (
            await attacking.post("/red-team/run", json={"model_name": MODEL, "version": v, "techniques": techniques})
        ).json()
        for v in versions
    ]
    other = await upload(attacking, "other-detector", "7", local_report(["plain", "hex"]))

    summary = (await attacking.get("/red-team/summary")).json()
    assert [m["model_name"] for m in summary["models"]] == ["other-detector", MODEL]
    latest = summary["models"][1]
    assert (latest["id"], latest["model_version"]) == (second["id"], versions[1])
    weakest = min(second["techniques"], key=lambda t: t["detection_rate"])
    assert latest["weakest_technique"]["detection_rate"] == weakest["detection_rate"]

    trends = (await attacking.get("/red-team/trends", params={"model_name": MODEL})).json()
    (trend,) = trends["models"]
    assert [(p["run_id"], p["model_version"]) for p in trend["runs"]] == [
        (first["id"], versions[0]),
        (second["id"], versions[1]),
    ]
    assert trend["runs"][0]["change"] is None
    assert trend["runs"][1]["change"] == pytest.approx(second["detection_rate"] - first["detection_rate"])
    hex_change = trend["runs"][1]["techniques"][1]
    assert hex_change["technique"] == "hex"
    assert hex_change["change"] == pytest.approx(
        second["techniques"][1]["detection_rate"] - first["techniques"][1]["detection_rate"]
    )

    patterns = (await attacking.get("/red-team/patterns")).json()
    assert (patterns["runs"], patterns["models"]) == (2, ["other-detector", MODEL])
    rates = [p["evasion_rate"] for p in patterns["techniques"]]
    assert rates == sorted(rates, reverse=True)
    by_name = {p["technique"]: p for p in patterns["techniques"]}
    hex_now = [t for run in (second, other) for t in run["techniques"] if t["technique"] == "hex"]
    assert by_name["hex"]["attempts"] == sum(t["attempts"] for t in hex_now)
    assert by_name["hex"]["evaded"] == sum(t["evaded_total"] for t in hex_now)
    assert by_name["roleplay"]["models"] == 1
    known = {e["prompt"] for t in hex_now for e in t["evaded_examples"]}
    assert 0 < len(by_name["hex"]["examples"]) <= 5
    assert {e["prompt"] for e in by_name["hex"]["examples"]} <= known

    assert (await attacking.get("/red-team/summary", params={"model_name": "nobody"})).json() == {
        "models": [],
        "count": 0,
    }


async def test_a_model_the_model_api_does_not_serve_is_404(attacking: httpx.AsyncClient) -> None:
    for body in ({"model_name": "no-such-model"}, {"model_name": MODEL, "version": "99"}):
        response = await attacking.post("/red-team/run", json={**body, "techniques": ["plain"]})
        assert response.status_code == 404
        answer = response.json()
        assert answer["error"] is True
        assert "not served by the model API" in answer["message"]
        assert answer["details"]["dependency"] == "model-api"
    assert (await attacking.get("/red-team/runs")).json()["total"] == 0


async def test_a_model_api_that_is_down_is_503(tmp_path: Path) -> None:
    async for client in _analytics(tmp_path, model_api_url=f"http://127.0.0.1:{free_port()}"):
        response = await client.post("/red-team/run", json={"model_name": MODEL, "techniques": ["plain"]})
        assert response.status_code == 503
        answer = response.json()
        assert answer["error"] is True
        assert "model API is unavailable" in answer["message"]
        assert (await client.get("/red-team/runs")).json()["total"] == 0


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"techniques": ["plain", "nope"]}, "known techniques: plain, instruction_override"),
        ({"techniques": ["plain", "plain"]}, "more than once"),
        ({"techniques": []}, "techniques"),
        ({"variants_per_seed": 0}, "variants_per_seed"),
        ({"variants_per_seed": 11}, "variants_per_seed"),
        ({"seed": -1}, "seed"),
        ({"model_name": "bad name"}, "model_name"),
        ({"version": "1.0"}, "version"),
        ({"positive_label": "1"}, "positive_label"),
    ],
)
async def test_bad_run_requests_are_422(analytics: httpx.AsyncClient, change: dict[str, Any], needle: str) -> None:
    response = await analytics.post("/red-team/run", json={"model_name": MODEL, **change})
    assert response.status_code == 422
    assert needle in response.json()["message"]


async def test_an_uploaded_report_is_stored_as_given(analytics: httpx.AsyncClient) -> None:
    report = local_report(list(TECHNIQUES))
    stored = await upload(analytics, "uploaded-detector", "3", report)
    assert (stored["source"], stored["model_version"], stored["config"]) == ("upload", "3", None)
    assert stored["attempts"] == report["attempts"]
    assert stored["techniques"] == report["techniques"]
    assert_consistent(stored)
    assert (await analytics.get(f"/red-team/runs/{stored['id']}")).json() == stored


def _broken(mutate: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    report = copy.deepcopy(local_report(["plain", "leetspeak"]))
    mutate(report)
    return report


def _too_many_examples(report: dict[str, Any]) -> None:
    example = {"seed_index": 0, "variant": 0, "label": "0", "prompt": "x"}
    report["techniques"][1].update(attempts=300, detected=0, detection_rate=0.0, evaded_total=300)
    report["techniques"][1]["evaded_examples"] = [example] * 201
    report["attempts"] = sum(t["attempts"] for t in report["techniques"])
    report["detection_rate"] = report["detected"] / report["attempts"]


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: r["techniques"][0].update(detected=r["techniques"][0]["attempts"] + 1), "exceeds attempts"),
        (
            lambda r: r["techniques"][0].update(detection_rate=(r["techniques"][0]["detection_rate"] + 0.5) % 1),
            "/ attempts",
        ),
        (lambda r: r.update(attempts=r["attempts"] + 1), "sum of the techniques"),
        (lambda r: r.update(detection_rate=1.5), "detection_rate"),
        (lambda r: r["techniques"][1].update(evaded_total=0), "evaded_total"),
        (lambda r: r["techniques"][1].update(technique="plain"), "more than once"),
        (lambda r: r.update(baseline_detection_rate=None), "baseline_detection_rate"),
        (lambda r: r["techniques"][0].update(detected=-1), "detected"),
        (lambda r: r.update(extra=1), "extra"),
        (lambda r: r.update(techniques=[]), "techniques"),
        (lambda r: r.update(techniques=r["techniques"] * 51), "techniques"),
        (_too_many_examples, "evaded_examples"),
        (lambda r: r["techniques"][1]["evaded_examples"][0].update(prompt="x" * 20_001), "prompt"),
    ],
)
async def test_inconsistent_or_oversized_reports_are_422(
    analytics: httpx.AsyncClient, mutate: Callable[[dict[str, Any]], object], needle: str
) -> None:
    body = {"model_name": "uploaded-detector", "model_version": "1", "report": _broken(mutate)}
    response = await analytics.post("/red-team/results", json=body)
    assert response.status_code == 422, response.text
    assert needle in response.json()["message"]


async def test_runs_are_listed_newest_first_without_prompts(analytics: httpx.AsyncClient) -> None:
    ids = [
        (await upload(analytics, model, "1", local_report(["plain"], seed=i)))["id"] for i, model in enumerate("aba")
    ]
    page = (await analytics.get("/red-team/runs")).json()
    assert (page["total"], [r["id"] for r in page["runs"]]) == (3, ids[::-1])
    assert "evaded_examples" not in json.dumps(page)
    only_a = (await analytics.get("/red-team/runs", params={"model_name": "a", "limit": 1, "offset": 1})).json()
    assert (only_a["total"], [r["id"] for r in only_a["runs"]]) == (2, [ids[0]])
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"model_name": "x" * 101}):
        assert (await analytics.get("/red-team/runs", params=params)).status_code == 422


async def test_an_unknown_run_is_404_in_the_envelope(analytics: httpx.AsyncClient) -> None:
    response = await analytics.get("/red-team/runs/999")
    assert response.status_code == 404
    assert response.json()["message"] == "red-team run 999 not found"
    assert response.json()["details"] == {"run_id": 999}
    assert (await analytics.get("/red-team/runs/abc")).status_code == 422
    for path in ("/red-team/summary", "/red-team/trends", "/red-team/patterns"):
        empty = (await analytics.get(path)).json()
        assert empty.get("models", []) == [] and empty.get("techniques", []) == []
