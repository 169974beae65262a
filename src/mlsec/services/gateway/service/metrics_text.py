"""Summaries of a service's Prometheus `/metrics` text, for the platform views (metrics, security overview)."""

from __future__ import annotations

from collections import Counter

from prometheus_client.parser import text_string_to_metric_families


def request_counts(text: str) -> dict[str, float]:
    """HTTP requests served and those answered 5xx, from `mlsec_http_requests_total{status}`."""
    requests = 0.0
    server_errors = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != "mlsec_http_requests":
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            requests += sample.value
            if str(sample.labels.get("status", "")).startswith("5"):
                server_errors += sample.value
    return {"requests": requests, "server_errors": server_errors}


def prediction_counts(text: str, traffic_class: str = "production") -> Counter[tuple[str, str]]:
    """(model, label) -> predictions answered of one traffic class (production: what business figures count),
    from `mlsec_serving_labels_total`."""
    counts: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name != "mlsec_serving_labels":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels.get("traffic_class", "production") == traffic_class:
                counts[(sample.labels["model"], sample.labels["label"])] += int(sample.value)
    return counts
