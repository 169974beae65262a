"""`GET /` on the running service, and the writers' rollups read back at every resolution."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from mlsec.services.business_metrics.service import rollups
from mlsec.services.business_metrics.service.period import Period
from mlsec.services.business_metrics.service.rollups import PredictionSample
from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.conftest import prediction

pytestmark = pytest.mark.anyio
Loader = Callable[[Iterable[PredictionSample]], Awaitable[None]]


async def test_overview_counts_rows_per_resolution(client: httpx.AsyncClient, load_predictions: Loader) -> None:
    at = datetime(2026, 12, 1, 10, 30, 15, tzinfo=UTC)
    await load_predictions([prediction(at), prediction(at + timedelta(minutes=2))])
    answer = await client.get("/")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rows"]["prediction_rollup"] == {"minute": 2, "hour": 1, "day": 1}
    assert body["collecting"] is False and body["prices"]["currency"] == "USD"


async def test_hour_and_day_rows_hold_the_sums_of_their_minutes(
    business: BusinessMetrics, load_predictions: Loader
) -> None:
    start = datetime(2026, 12, 1, 23, 58, tzinfo=UTC)
    samples = [
        prediction(start + timedelta(seconds=37 * i), label="1" if i % 3 == 0 else "0", latency_ms=float(i + 1))
        for i in range(20)
    ]
    await load_predictions(samples[:10])
    await load_predictions(samples[10:])  # a second write merges into the same rows
    period = Period(start - timedelta(days=1), start + timedelta(days=2))
    async with business.ctx.db.session() as session:
        by = {r: await rollups.get_predictions(session, period, r) for r in ("minute", "hour", "day")}
    threats = sum(1 for s in samples if s.label == "1")
    for resolution, buckets in by.items():
        assert sum(b.predictions for b in buckets) == 20, resolution
        assert sum(b.threats for b in buckets) == threats, resolution
        assert sum(b.latency_ms_sum for b in buckets) == pytest.approx(sum(s.latency_ms for s in samples))
        assert sum(b.sketch.count for b in buckets) == 20
    before_midnight = sum(1 for s in samples if s.at.day == 1)
    assert [b.predictions for b in by["day"]] == [before_midnight, 20 - before_midnight]
