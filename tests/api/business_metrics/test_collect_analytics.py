"""The collector reads labelled feedback from a real analytics service (in a thread): the confusion counts of
each round's new feedback land in that round's minute, positive meaning a threat, and nothing is counted twice.
The model API of test_collect names the models (the feedback is about the model it serves)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mlsec.core.settings import Settings
from mlsec.services.analytics.app import create_app as create_analytics
from mlsec.services.business_metrics.service import collect, rollups
from mlsec.services.business_metrics.service.period import bucket_of, bucket_start
from mlsec.services.business_metrics.settings import DEFAULT_BENIGN_LABELS
from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.analytics.conftest import analytics_settings
from tests.api.business_metrics.test_collect import EVERYTHING, MODEL, _settings, _started, model_api
from tests.conftest import make_settings
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
__all__ = ["model_api"]  # the module-scoped fixture, shared


@pytest.fixture
def analytics(tmp_path: Any, mlflow_server: str) -> Iterator[str]:
    settings = make_settings(tmp_path / "analytics-home", mlflow_tracking_uri=mlflow_server, http_retries=0)
    server = ThreadedServer(create_analytics(settings, analytics_settings())).start()
    yield server.url
    server.stop()


def _items(pairs: list[tuple[str, str]], version: str = "1") -> list[dict[str, str]]:
    return [{"model_name": MODEL, "model_version": version, "prediction": p, "true_label": t} for p, t in pairs]


def _confusion(pairs: list[tuple[str, str]]) -> tuple[int, int, int, int]:
    """tp, fp, tn, fn with a threat (a label that is not benign) as the positive class."""
    threat = [(p not in DEFAULT_BENIGN_LABELS, t not in DEFAULT_BENIGN_LABELS) for p, t in pairs]
    return (
        sum(p and t for p, t in threat),
        sum(p and not t for p, t in threat),
        sum(not p and not t for p, t in threat),
        sum(not p and t for p, t in threat),
    )


async def _post(analytics: str, items: list[dict[str, str]]) -> None:
    async with httpx.AsyncClient(base_url=analytics, timeout=30) as http:
        answer = await http.post("/feedback", json={"items": items})
        assert answer.status_code == 201, answer.text


async def test_feedback_confusion_counts_per_round(backend_settings: Settings, model_api: str, analytics: str) -> None:
    settings = _settings(backend_settings, model_api, analytics_url=analytics)
    first_pairs = [("1", "1")] * 7 + [("1", "0")] * 3 + [("0", "0")] * 5 + [("0", "1")] * 2
    second_pairs = [("1", "1")] * 2 + [("0", "1")] * 4
    at = datetime(2026, 12, 6, 8, 0, 30, tzinfo=UTC)
    async for app in _started(settings, "model-api"):
        business: BusinessMetrics = app.state.business
        await _post(analytics, _items(first_pairs) + _items([("0", "0")] * 4, version="2"))
        await collect.run_round(business, at)
        await _post(analytics, _items(second_pairs))
        await collect.run_round(business, at + timedelta(minutes=1))
        await collect.run_round(business, at + timedelta(minutes=2))  # nothing new
        async with business.ctx.db.session() as session:
            minutes = await rollups.get_feedback(session, EVERYTHING, "minute", model_name=MODEL)
            days = await rollups.get_feedback(session, EVERYTHING, "day", model_name=MODEL, model_version="1")
        found = {(b.start, b.model_version): (b.tp, b.fp, b.tn, b.fn) for b in minutes}
        assert found == {
            (bucket_start(bucket_of(at)), "1"): _confusion(first_pairs),
            (bucket_start(bucket_of(at)), "2"): (0, 0, 4, 0),
            (bucket_start(bucket_of(at + timedelta(minutes=1))), "1"): _confusion(second_pairs),
        }
        assert [(b.tp, b.fp, b.tn, b.fn) for b in days] == [_confusion(first_pairs + second_pairs)]
        for source in ("feedback", f"promotions:{MODEL}", "retrains", "drift_alerts"):
            assert business.sources[source].error_type is None, source
