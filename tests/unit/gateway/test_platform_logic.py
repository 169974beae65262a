"""The gateway's platform logic against services faked at the transport: the fallback of unified predictions,
ensemble voting, metrics parsing, and the exact shape of the views (a key that was not set is left out)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.core.errors import MlsecError, ServiceUnavailableError
from mlsec.services.gateway.schemas.predictions import UnifiedBatchPredict, UnifiedBatchPrediction, UnifiedPredict
from mlsec.services.gateway.service import platform, predictions
from mlsec.services.gateway.service.ensemble import combine_votes
from mlsec.services.gateway.service.metrics_text import prediction_counts, request_counts
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio
Handler = Callable[[httpx.Request], httpx.Response]
PREDICTION = {
    "label": 1,
    "score": 0.9,
    "probabilities": None,
    "model_name": "detector",
    "model_version": "3",
    "threshold": 0.5,
    "latency_ms": 1.5,
}
BATCH = {k: v for k, v in PREDICTION.items() if k not in ("label", "score", "probabilities")}


def _sdk(tmp_path: Path, services: dict[str, Handler]) -> tuple[MainAPIClient, httpx.AsyncClient]:
    """An SDK whose services answer through `services` (by name); any other service is unreachable."""
    urls = {f"{name.replace('-', '_')}_url": f"http://{name}.test" for name in services}
    settings = make_settings(tmp_path, **urls, http_retries=0)

    def route(request: httpx.Request) -> httpx.Response:
        name = request.url.host.removesuffix(".test")
        if name not in services:
            raise httpx.ConnectError("refused", request=request)
        return services[name](request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(route))
    return MainAPIClient(settings, http=http), http


def _answer(body: dict[str, Any], status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, json=body)


async def test_a_prediction_falls_back_to_the_model_api_only_on_an_outage(tmp_path: Path) -> None:
    sdk, http = _sdk(tmp_path, {"model-cache": _answer({}, 503), "model-api": _answer(PREDICTION)})
    async with http:
        answer = await predictions.predict(sdk, UnifiedPredict(text="x"))
        assert answer.model_dump(mode="json", exclude_unset=True) == {
            **PREDICTION,
            "served_by": "model-api",
            "fallback": True,
        }
    refusing = {"message": "no such model", "details": {"model": "m"}}
    sdk, http = _sdk(tmp_path, {"model-cache": _answer(refusing, 404), "model-api": _answer(PREDICTION)})
    async with http:
        with pytest.raises(MlsecError) as refused:
            await predictions.predict(sdk, UnifiedPredict(text="x"))
    assert (refused.value.status_code, refused.value.details) == (404, {"model": "m", "service": "model-cache"})


async def test_no_prediction_service_is_a_503(tmp_path: Path) -> None:
    sdk, http = _sdk(tmp_path, {})
    async with http:
        with pytest.raises(ServiceUnavailableError, match="no prediction service answered"):
            await predictions.predict(sdk, UnifiedPredict(text="x"))
        with pytest.raises(MlsecError) as too_many:
            await predictions.predict_batch(sdk, UnifiedBatchPredict(texts=["a", "b"]), max_texts=1)
    assert too_many.value.status_code == 413


async def test_an_ensemble_asks_every_served_model(tmp_path: Path) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/models":
            return httpx.Response(200, json={"models": [{"name": "b"}, {"name": "a"}]})
        label = 1 if json.loads(request.content)["model_name"] == "a" else 0
        return httpx.Response(
            200, json={**BATCH, "predictions": [{"label": label, "score": 0.5, "probabilities": None}], "count": 1}
        )

    sdk, http = _sdk(tmp_path, {"model-api": api})
    async with http:
        answer = await predictions.predict_batch(sdk, UnifiedBatchPredict(texts=["x"], ensemble=True), max_texts=10)
    dumped = answer.model_dump(mode="json")
    assert dumped["predictions"] == [{"label": 1, "score": 0.5, "votes": {"a": 1, "b": 0}}]  # a tie flags it
    assert (dumped["count"], dumped["ensemble"]) == (1, True)
    assert [m["served_by"] for m in dumped["models"]] == ["model-api", "model-api"]


def _batch(name: str, labels: list[int], scores: list[float]) -> UnifiedBatchPrediction:
    return UnifiedBatchPrediction.model_validate(
        {
            **BATCH,
            "model_name": name,
            "count": len(labels),
            "served_by": "model-api",
            "fallback": False,
            "predictions": [
                {"label": label, "score": score, "probabilities": None}
                for label, score in zip(labels, scores, strict=True)
            ],
        }
    )


def test_ensemble_takes_the_majority_and_a_tie_flags_the_input() -> None:
    answers = [_batch("a", [1, 0, 1], [0.9, 0.1, 0.6]), _batch("b", [1, 0, 0], [0.8, 0.2, 0.4])]
    combined = combine_votes(["x", "y", "z"], ["a", "b"], answers)
    assert [p.label for p in combined.predictions] == [1, 0, 1]  # the tie on "z" is flagged
    assert combined.predictions[0].score == pytest.approx(0.85)
    assert combined.predictions[2].votes == {"a": 1, "b": 0}
    three = combine_votes(
        ["z"], ["a", "b", "c"], [_batch("a", [1], [0.6]), _batch("b", [0], [0.4]), _batch("c", [0], [0.3])]
    )
    assert three.predictions[0].label == 0


@pytest.mark.parametrize(
    ("status", "outage"), [(None, True), (500, True), (503, True), (404, False), (413, False), (422, False)]
)
def test_only_outages_are_worth_a_fallback(status: int | None, outage: bool) -> None:
    assert predictions.is_outage(ServiceCallError("model-cache", "x", status_code=status)) is outage


METRICS = """\
# HELP mlsec_http_requests_total HTTP requests served.
# TYPE mlsec_http_requests_total counter
mlsec_http_requests_total{method="GET",route="/health",status="200"} 7.0
mlsec_http_requests_total{method="POST",route="/predict",status="500"} 2.0
mlsec_http_requests_total{method="POST",route="/predict",status="200"} 5.0
# HELP mlsec_serving_labels_total Predictions answered, by model and label
# TYPE mlsec_serving_labels_total counter
mlsec_serving_labels_total{label="1",model="detector",traffic_class="production"} 3.0
mlsec_serving_labels_total{label="0",model="detector",traffic_class="production"} 2.0
mlsec_serving_labels_total{label="1",model="detector",traffic_class="redteam"} 40.0
mlsec_serving_labels_total{label="0",model="detector",traffic_class="synthetic"} 900.0
"""


def test_metrics_text_is_summarised() -> None:
    assert request_counts(METRICS) == {"requests": 14.0, "server_errors": 2.0}
    assert prediction_counts(METRICS) == {("detector", "1"): 3, ("detector", "0"): 2}  # production only
    assert prediction_counts(METRICS, "redteam") == {("detector", "1"): 40}


def _ready(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/metrics":
        return httpx.Response(200, text=METRICS)
    if request.url.path == "/stats":
        return httpx.Response(200, json={"hits": 1})
    return httpx.Response(200, json={"status": "ready", "service": "x", "checks": {}})


async def test_health_entries_carry_exactly_the_keys_that_apply(tmp_path: Path) -> None:
    sdk, http = _sdk(tmp_path, {"model-api": _ready, "mlflow": _answer({"status": "OK"})})
    async with http:
        health = (await platform.get_gateway_health(sdk, "9.9")).model_dump(mode="json", exclude_unset=True)
    services = health["services"]
    assert list(services["model-api"]) == ["service", "url", "status", "checks", "latency_ms", "circuit"]
    assert services["model-api"]["checks"] is None  # no checks: null, as the seed's answer had it
    assert list(services["mlflow"]) == ["service", "url", "status", "latency_ms", "circuit"]
    assert list(services["tracing"]) == ["service", "url", "status", "error", "latency_ms", "circuit"]
    assert (health["healthy"], health["total"], health["status"]) == (2, 9, "degraded")
    assert health["gateway"] == {"service": "gateway", "status": "healthy", "version": "9.9"}
    assert health["timestamp"].endswith("+00:00")


async def test_views_leave_out_the_parts_that_failed_and_name_them(tmp_path: Path) -> None:
    sdk, http = _sdk(tmp_path, {"model-api": _ready, "model-cache": _ready})
    async with http:
        overview = (await platform.get_dashboard_overview(sdk)).model_dump(mode="json", exclude_unset=True)
        models = (await platform.get_models_overview(sdk)).model_dump(mode="json", exclude_unset=True)
        metrics = (await platform.get_all_metrics(sdk)).model_dump(mode="json", exclude_unset=True)
        security = (await platform.get_security_overview(sdk)).model_dump(mode="json", exclude_unset=True)
    assert list(overview) == ["health", "models", "cache", "unavailable", "timestamp"]
    assert [part["part"] for part in overview["unavailable"]] == ["training_jobs", "registry"]
    assert list(models) == ["model_api", "model_cache", "cache_stats", "unavailable", "timestamp"]
    assert metrics["services"]["model-api"] == {
        "requests": 14.0,
        "server_errors": 2.0,
        "predictions": {"detector": {"0": 2, "1": 3}},
    }
    assert {part["part"] for part in metrics["unavailable"]} == {
        "training",
        "business-metrics",
        "analytics",
        "data-privacy",
        "tracing",
        "control-tower",
    }
    assert security["detections"] == {
        "detector": {"predictions": 10, "by_label": {"0": 4, "1": 6}, "flagged": 6, "flagged_rate": 0.6}
    }
    assert list(security["services"]) == ["analytics", "data-privacy", "tracing"]
    assert security["unavailable"] == []
