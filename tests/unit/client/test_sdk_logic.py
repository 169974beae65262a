"""The SDK's pure logic: endpoint declarations, service names, ensemble voting, metrics parsing."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec.client import CLIENT_CLASSES, ModelAPIClient, ServiceCallError, endpoint, endpoints, service_name
from mlsec.client.ensemble import combine_votes
from mlsec.client.main import _is_outage
from mlsec.client.metrics_text import prediction_counts, request_counts


def test_a_method_may_declare_several_routes_and_inherits_the_common_ones() -> None:
    declared = {(e.method, e.path): e for e in endpoints(ModelAPIClient)}
    assert declared[("POST", "/v2/models/{model_name}/infer")].name == "v2_infer"
    assert declared[("POST", "/v2/models/{model_name}/versions/{version}/infer")].name == "v2_infer"
    assert declared[("GET", "/health")].cache is None  # health is never answered from a cache
    assert declared[("GET", "/metrics")].cache == "metrics"
    assert declared[("GET", "/models/{model_name}")].template == "/models/{}"


def test_only_gets_are_cacheable() -> None:
    with pytest.raises(ValueError, match="only GET responses are cached"):
        endpoint("POST", "/predict", cache="default")


@pytest.mark.parametrize(("given", "expected"), [("model_api", "model-api"), ("Model-Cache", "model-cache")])
def test_service_names_accept_both_spellings(given: str, expected: str) -> None:
    assert service_name(given) == expected


def test_an_unknown_service_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: model-api, training"):
        service_name("nope")
    assert "mlflow" in CLIENT_CLASSES


def _answer(name: str, labels: list[int], scores: list[float]) -> dict[str, Any]:
    return {
        "model_name": name,
        "model_version": "1",
        "served_by": "model-api",
        "predictions": [{"label": label, "score": score} for label, score in zip(labels, scores, strict=True)],
    }


def test_ensemble_takes_the_majority_and_a_tie_flags_the_input() -> None:
    answers = [_answer("a", [1, 0, 1], [0.9, 0.1, 0.6]), _answer("b", [1, 0, 0], [0.8, 0.2, 0.4])]
    combined = combine_votes(["x", "y", "z"], ["a", "b"], answers)
    assert [p["label"] for p in combined["predictions"]] == [1, 0, 1]  # the tie on "z" is flagged
    assert combined["predictions"][0]["score"] == pytest.approx(0.85)
    assert combined["predictions"][2]["votes"] == {"a": 1, "b": 0}
    three = combine_votes(
        ["z"], ["a", "b", "c"], [_answer("a", [1], [0.6]), _answer("b", [0], [0.4]), _answer("c", [0], [0.3])]
    )
    assert three["predictions"][0]["label"] == 0


@pytest.mark.parametrize(
    ("status", "outage"), [(None, True), (500, True), (503, True), (404, False), (413, False), (422, False)]
)
def test_only_outages_are_worth_a_fallback(status: int | None, outage: bool) -> None:
    assert _is_outage(ServiceCallError("model-cache", "x", status_code=status)) is outage


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
