"""The SDK's pure logic: endpoint declarations and service names."""

from __future__ import annotations

import pytest

from mlsec.client import CLIENT_CLASSES, ModelAPIClient, endpoint, endpoints, service_name


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
