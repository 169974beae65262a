"""One known traffic story for the KPI tests, and the figures a reader would compute from its raw records.

Ten minutes of production traffic: version 1 of `detector` on the model API the whole time (20% threats),
version 2 on the model API for the last five minutes (half threats, label `malicious`) and on the model cache for
the first five; the model API down for two minutes (one outage); an idle training service that still costs; and
labelled feedback per version. Every expected figure below is computed from these lists, never from the
service's code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

from mlsec.core.settings import Settings
from mlsec.services.business_metrics.app import create_app
from mlsec.services.business_metrics.service.rollups import (
    PredictionSample,
    ServiceSample,
    add_event,
    add_feedback,
    add_predictions,
    add_service_sample,
)
from mlsec.services.business_metrics.state import BusinessMetrics
from tests.api.business_metrics.conftest import EventRecord, FeedbackRecord, business_settings, prediction, start
from tests.conftest import make_settings

MINUTES = 10
CPU_PRICE = 0.0475  # the settings' defaults, which the test app keeps
MEMORY_PRICE = 0.0050
BENIGN = {"0", "benign", "safe", "negative", "legitimate"}


@dataclass
class Story:
    """The raw records of the ten minutes, and the period that holds exactly them."""

    base: datetime
    predictions: list[PredictionSample] = field(default_factory=list)
    services: dict[str, list[tuple[datetime, ServiceSample]]] = field(default_factory=dict)
    feedback: list[FeedbackRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)

    @property
    def params(self) -> dict[str, str]:
        return {"start": self.base.isoformat(), "end": (self.base + timedelta(minutes=MINUTES)).isoformat()}

    @property
    def seconds(self) -> float:
        return MINUTES * 60.0

    def of(self, version: str | None = None, service: str | None = None) -> list[PredictionSample]:
        return [
            p
            for p in self.predictions
            if (version is None or p.model_version == version) and (service is None or p.service == service)
        ]

    def latencies(self, version: str | None = None) -> list[float]:
        return [p.latency_ms for p in self.of(version)]

    def threats(self, version: str | None = None) -> int:
        return sum(p.label is not None and p.label not in BENIGN for p in self.of(version))

    def percentile(self, q: float, version: str | None = None) -> float:
        """The order statistic the sketch estimates: rank q * (n - 1), rounded down (numpy's 'lower')."""
        return float(np.percentile(self.latencies(version), q * 100, method="lower"))

    def down(self, service: str) -> tuple[float, float, int]:
        """(observed seconds, seconds down, outages) from the probes."""
        samples = [s for _, s in self.services[service]]
        observed = sum(s.interval_s for s in samples)
        # The documented rule: a probe interval between two down probes is down, half of one where the state changed.
        down = sum(
            (0.0 if s.healthy else s.interval_s) if s.was_healthy in (None, s.healthy) else s.interval_s / 2
            for s in samples
        )
        outages = sum(1 for s in samples if not s.healthy and s.was_healthy)
        return observed, down, outages

    def service_cost(self, service: str) -> float:
        return sum(_cost(sample) for _, sample in self.services[service])

    def version_costs(self) -> dict[str, tuple[float, float, float]]:
        """Per version: (cost, cpu seconds, memory GiB-hours), each minute's service cost shared by the
        version's share of that service's predictions in that minute."""
        counts: dict[tuple[datetime, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for p in self.predictions:
            counts[(_minute(p.at), p.service)][p.model_version] += 1
        out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for service, samples in self.services.items():
            for at, sample in samples:
                served = counts.get((_minute(at), service))
                if not served:
                    continue
                total = sum(served.values())
                for version, n in served.items():
                    share = n / total
                    out[version][0] += _cost(sample) * share
                    out[version][1] += sample.cpu_s * share
                    out[version][2] += sample.memory_gib * sample.interval_s / 3600 * share
        return {version: (c, cpu, mem) for version, (c, cpu, mem) in out.items()}


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _cost(sample: ServiceSample) -> float:
    memory_gib_hours = sample.memory_gib * sample.interval_s / 3600
    return sample.cpu_s / 3600 * CPU_PRICE + memory_gib_hours * MEMORY_PRICE


def story(seed: int = 7) -> Story:
    """The ten minutes, ending more than a minute ago (whole minutes, so the period holds exactly them)."""
    rng = np.random.default_rng(seed)
    base = (datetime.now(UTC) - timedelta(minutes=MINUTES + 5)).replace(second=0, microsecond=0)
    told = Story(base)
    for minute in range(MINUTES):
        at = base + timedelta(minutes=minute, seconds=20)
        for i in range(50):
            label = "1" if i % 5 == 0 else "0"
            told.predictions.append(prediction(at, model_version="1", label=label, latency_ms=rng.lognormal(2.2, 0.5)))
        where = "model-api" if minute >= 5 else "model-cache"
        for i in range(30 if minute >= 5 else 10):
            label = "malicious" if i % 2 else "benign"
            latency = float(rng.lognormal(3.0, 0.3))
            told.predictions.append(prediction(at, model_version="2", label=label, latency_ms=latency, service=where))
    told.services = {
        "model-api": [
            (
                base + timedelta(minutes=m, seconds=40),
                ServiceSample(
                    healthy=m not in (3, 4),
                    interval_s=60.0,
                    was_healthy=m not in (4, 5),
                    cpu_s=3.0 + m * 0.1,
                    memory_gib=0.5,
                    prediction_requests=50 + (30 if m >= 5 else 0) + (m % 3),
                    prediction_errors=m % 3,
                ),
            )
            for m in range(MINUTES)
        ],
        "model-cache": [
            (base + timedelta(minutes=m, seconds=40), ServiceSample(True, 60.0, True, cpu_s=1.2, memory_gib=0.25))
            for m in range(MINUTES)
        ],
        "training": [
            (base + timedelta(minutes=m, seconds=40), ServiceSample(True, 60.0, True, cpu_s=6.0, memory_gib=1.0))
            for m in range(MINUTES)
        ],
    }
    told.feedback = [
        FeedbackRecord(base + timedelta(minutes=2), model_version="1", tp=40, fp=5, tn=95, fn=10),
        FeedbackRecord(base + timedelta(minutes=7), model_version="2", tp=18, fp=1, tn=29, fn=2),
    ]
    told.events = [
        EventRecord(base + timedelta(minutes=1), "retrain", count=2),
        EventRecord(base + timedelta(minutes=6), "drift_alert", count=3),
        EventRecord(base + timedelta(minutes=8), "promotion"),
    ]
    return told


async def load(business: BusinessMetrics, told: Story) -> None:
    """Write the story's raw records through the service's own writers, as the collector would."""
    async with business.ctx.db.session() as session:
        await add_predictions(session, told.predictions, business.settings.benign_labels)
        for service, samples in told.services.items():
            for at, sample in samples:
                await add_service_sample(session, service, at, sample)
        for r in told.feedback:
            await add_feedback(session, r.at, r.model_name, r.model_version, tp=r.tp, fp=r.fp, tn=r.tn, fn=r.fn)
        for e in told.events:
            await add_event(session, e.at, e.kind, e.model_name, e.count)


async def business_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The business-metrics app on these settings (collector off), and a client on it."""
    async for app in start(create_app(settings, business_settings())):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, app


def rows_by(answer: dict[str, Any], kpi: str) -> dict[tuple[str | None, str | None, str | None], Any]:
    """`/metrics/kpis` rows of one KPI by (model_name, model_version, service)."""
    return {(r["model_name"], r["model_version"], r["service"]): r["value"] for r in answer["rows"] if r["kpi"] == kpi}


CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once


def settings_with(settings: Settings, **urls: str) -> Settings:
    """The same settings (database backend, home) with other services' URLs, and no retries: a test of an
    unreachable source should not wait out a backoff."""
    values = settings.model_dump()
    values.update(urls, http_retries=0)
    return make_settings(settings.home, **{k: v for k, v in values.items() if k != "home"})
