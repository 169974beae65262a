"""The KPI formulas on hand-built buckets: each figure computed here from the same counts the buckets hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mlsec.core.errors import InvalidInputError
from mlsec.services.business_metrics.service.costs import Prices, version_usage
from mlsec.services.business_metrics.service.kpis import (
    KPIS,
    Rollups,
    Selection,
    bucket_starts,
    check_kpi,
    compute,
    split,
)
from mlsec.services.business_metrics.service.period import Period
from mlsec.services.business_metrics.service.rollups import (
    EventBucket,
    FeedbackBucket,
    PredictionBucket,
    ServiceBucket,
)
from mlsec.services.business_metrics.service.sketch import LatencySketch

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEP_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
PRICES = Prices(cpu_per_hour=0.05, memory_per_gib_hour=0.01, currency="USD")


def _pred(
    start: datetime, service: str, version: str, latencies: list[float], threats: int, name: str = "m"
) -> PredictionBucket:
    sketch = LatencySketch()
    sketch.add_all(latencies)
    return PredictionBucket(start, service, name, version, len(latencies), threats, sum(latencies), sketch)


def _svc(start: datetime, service: str, *, cpu_s: float = 0.0, mem: float = 0.0, **kw: float) -> ServiceBucket:
    base: dict[str, float] = {
        "probes": 1,
        "healthy_probes": 1,
        "observed_s": 60.0,
        "down_s": 0.0,
        "outages": 0,
        "requests": 0,
        "errors": 0,
        "prediction_requests": 0,
        "prediction_errors": 0,
    }
    base.update(kw)
    return ServiceBucket(start, service, cpu_s=cpu_s, memory_gib_minutes=mem, **base)  # type: ignore[arg-type]


def test_unknown_kpi_is_refused_with_the_known_ones() -> None:
    assert check_kpi("latency_p99_ms") == "latency_p99_ms"
    with pytest.raises(InvalidInputError) as caught:
        check_kpi("latency_p100")
    assert caught.value.status_code == 422
    assert "throughput_per_s" in caught.value.message


def test_every_kpi_has_a_unit_formula_and_scope() -> None:
    for definition in KPIS.values():
        assert definition.unit and definition.formula and definition.scope in ("model", "service", "platform")


def test_prediction_kpis_against_raw_counts() -> None:
    rng = np.random.default_rng(3)
    a = list(rng.lognormal(2.0, 0.6, 400))
    b = list(rng.lognormal(3.0, 0.4, 100))
    data = Rollups(
        seconds=120.0,
        predictions=[_pred(T0, "model-api", "1", a, 40), _pred(T0 + timedelta(minutes=1), "model-api", "2", b, 30)],
    )
    every = Selection()
    assert compute("predictions", data, every, PRICES) == 500
    assert compute("throughput_per_s", data, every, PRICES) == pytest.approx(500 / 120)
    assert compute("threat_rate", data, every, PRICES) == pytest.approx(70 / 500)
    assert compute("threats_blocked", data, Selection("m", "2"), PRICES) == 30
    assert compute("latency_mean_ms", data, every, PRICES) == pytest.approx(np.mean(a + b))
    for q, kpi in ((0.5, "latency_p50_ms"), (0.99, "latency_p99_ms")):
        expected = float(np.percentile(a + b, q * 100, method="lower"))
        assert compute(kpi, data, every, PRICES) == pytest.approx(expected, rel=0.01)
    assert compute("latency_p99_ms", data, Selection("m", "9"), PRICES) is None


def test_feedback_service_and_event_kpis() -> None:
    data = Rollups(
        seconds=60.0,
        feedback=[FeedbackBucket(T0, "m", "1", tp=45, fp=5, tn=95, fn=15)],
        services=[
            _svc(T0, "model-api", observed_s=600, down_s=90, outages=2, prediction_requests=200, prediction_errors=3),
            _svc(T0, "training", observed_s=600, down_s=0),
        ],
        events=[EventBucket(T0, "retrain", "m", 2), EventBucket(T0, "drift_alert", "m", 5)],
    )
    every = Selection()
    assert compute("detection_rate", data, every, PRICES) == pytest.approx(45 / 60)
    assert compute("false_positive_rate", data, every, PRICES) == pytest.approx(5 / 100)
    assert compute("availability", data, Selection(service="model-api"), PRICES) == pytest.approx(1 - 90 / 600)
    assert compute("availability", data, every, PRICES) == pytest.approx(1 - 90 / 1200)
    assert compute("mttr_s", data, Selection(service="model-api"), PRICES) == pytest.approx(45)
    assert compute("mttr_s", data, Selection(service="training"), PRICES) is None
    assert compute("error_rate", data, every, PRICES) == pytest.approx(3 / 200)
    assert compute("retrains", data, every, PRICES) == 2
    assert compute("drift_alerts", data, Selection("other"), PRICES) == 0


def test_cost_is_shared_by_share_of_predictions_in_each_bucket() -> None:
    t1 = T0 + timedelta(minutes=1)
    predictions = [
        _pred(T0, "model-api", "1", [5.0] * 30, 0),
        _pred(T0, "model-api", "2", [5.0] * 10, 0),
        _pred(t1, "model-api", "2", [5.0] * 20, 0),
    ]
    services = [
        _svc(T0, "model-api", cpu_s=36.0, mem=60.0),  # 0.01 h of CPU, 1 GiB-hour
        _svc(t1, "model-api", cpu_s=72.0, mem=30.0),
        _svc(T0, "training", cpu_s=360.0, mem=0.0),  # served nothing: the platform's cost only
    ]
    cost0 = 36 / 3600 * 0.05 + 60 / 60 * 0.01
    cost1 = 72 / 3600 * 0.05 + 30 / 60 * 0.01
    usage = version_usage(predictions, services, PRICES)
    assert usage[("m", "1")].cost == pytest.approx(cost0 * 0.75)
    assert usage[("m", "2")].cost == pytest.approx(cost0 * 0.25 + cost1)
    assert usage[("m", "2")].cost_per_1k == pytest.approx((cost0 * 0.25 + cost1) / 30 * 1000)
    data = Rollups(seconds=120, predictions=predictions, services=services)
    assert compute("cost_per_1k_predictions", data, Selection("m", "1"), PRICES) == pytest.approx(
        cost0 * 0.75 / 30 * 1000
    )
    platform = cost0 + cost1 + 360 / 3600 * 0.05
    assert compute("cost", data, Selection(), PRICES) == pytest.approx(platform)
    assert compute("cost_per_1k_predictions", data, Selection(), PRICES) == pytest.approx(platform / 60 * 1000)


def test_series_has_a_point_per_bucket_and_clips_the_last() -> None:
    period = Period(T0 + timedelta(seconds=30), T0 + timedelta(minutes=3, seconds=30))
    starts = bucket_starts(period, "minute")
    assert starts == [T0 + timedelta(minutes=i) for i in (1, 2, 3)]
    data = Rollups(seconds=period.seconds, predictions=[_pred(T0 + timedelta(minutes=3), "s", "1", [1.0] * 15, 0)])
    groups = split(data, period, "minute")
    throughput = [compute("throughput_per_s", group, Selection(), PRICES) for _, group in groups]
    assert throughput == [0.0, 0.0, pytest.approx(15 / 30)]
    latency = [compute("latency_p99_ms", group, Selection(), PRICES) for _, group in groups]
    assert latency[:2] == [None, None]


@pytest.mark.parametrize("resolution", ["minute", "hour", "day"])
def test_bucket_starts_at_the_ends_of_the_calendar(resolution: str) -> None:
    last = Period(datetime(9999, 12, 31, 23, 50, tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    first = Period(datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 1, 0, 5, tzinfo=UTC))
    expected = {"minute": (10, 5), "hour": (0, 1), "day": (0, 1)}[resolution]
    for period, count in zip((last, first), expected, strict=True):
        groups = split(Rollups(seconds=period.seconds), period, resolution)  # type: ignore[arg-type]
        assert len(groups) == count
        assert all(group.seconds <= STEP_SECONDS[resolution] for _, group in groups)
