"""What the detectors caught and how well: threats per model version from the rollups, detection rate and
false-positive rate on labelled feedback, drift alerts, the red team's latest detection rate (analytics, read
live), the data-privacy service's compliance status (read live) and every SLA's compliance (`service.slas`). A
live source that does not answer leaves its part null and says so in `sources`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mlsec.client import MainAPIClient
from mlsec.services.business_metrics.schemas.security import (
    ComplianceRead,
    Confusion,
    ModelSecurity,
    ModelThreats,
    RedTeamRead,
    SecurityRead,
    SecurityTotals,
    ThreatPoint,
    ThreatsRead,
)
from mlsec.services.business_metrics.service import slas
from mlsec.services.business_metrics.service.kpis import Rollups, Selection, compute, get_rollups, split
from mlsec.services.business_metrics.service.performance import NO_PRICES, period_read, read_live
from mlsec.services.business_metrics.service.period import Period, Resolution, resolution_for
from mlsec.services.business_metrics.service.summary import versions


def _confusion(data: Rollups, selection: Selection) -> Confusion:
    rows = [b for b in data.feedback if selection.takes_feedback(b)]
    return Confusion(
        tp=sum(b.tp for b in rows), fp=sum(b.fp for b in rows), tn=sum(b.tn for b in rows), fn=sum(b.fn for b in rows)
    )


def _count(kpi: str, data: Rollups, selection: Selection) -> int:
    return int(compute(kpi, data, selection, NO_PRICES) or 0)


def _model(data: Rollups, name: str, version: str) -> ModelSecurity:
    selection = Selection(name, version)
    return ModelSecurity(
        model_name=name,
        model_version=version,
        predictions=_count("predictions", data, selection),
        threats_detected=_count("threats_detected", data, selection),
        threats_blocked=_count("threats_blocked", data, selection),
        threat_rate=compute("threat_rate", data, selection, NO_PRICES),
        detection_rate=compute("detection_rate", data, selection, NO_PRICES),
        false_positive_rate=compute("false_positive_rate", data, selection, NO_PRICES),
        feedback=_confusion(data, selection),
    )


def _red_team(answer: dict[str, Any] | None) -> list[RedTeamRead] | None:
    if answer is None:
        return None
    return [RedTeamRead.model_validate(run) for run in answer.get("models", [])]


async def get(db: Any, sdk: MainAPIClient, period: Period) -> SecurityRead:
    """Threats, detection quality and drift alerts of the period, and the red team's latest runs."""
    data = await get_rollups(db, period, resolution_for(period), ("predictions", "feedback", "events"))
    answer, status = await read_live(sdk.analytics.get_red_team_summary())
    alerts: dict[str, int] = defaultdict(int)
    for bucket in data.events:
        if bucket.kind == "drift_alert":
            alerts[bucket.model_name] += bucket.count
    every = Selection()
    return SecurityRead(
        period=period_read(period),
        totals=SecurityTotals(
            predictions=_count("predictions", data, every),
            threats_detected=_count("threats_detected", data, every),
            threats_blocked=_count("threats_blocked", data, every),
            threat_rate=compute("threat_rate", data, every, NO_PRICES),
            detection_rate=compute("detection_rate", data, every, NO_PRICES),
            false_positive_rate=compute("false_positive_rate", data, every, NO_PRICES),
            drift_alerts=sum(alerts.values()),
        ),
        models=[_model(data, name, version) for name, version in versions(data)],
        drift_alerts=dict(sorted(alerts.items())),
        red_team=_red_team(answer),
        sources={"analytics": status},
    )


async def get_threats(
    db: Any, period: Period, resolution: Resolution | None, *, model_name: str | None = None
) -> ThreatsRead:
    """Predictions and threats in each bucket, per model (its versions together)."""
    chosen = resolution_for(period, resolution)
    data = await get_rollups(db, period, chosen, ("predictions",))
    buckets = split(data, period, chosen)
    names = sorted({b.model_name for b in data.predictions if model_name in (None, b.model_name)})

    def points(name: str) -> list[ThreatPoint]:
        selection = Selection(name)
        return [
            ThreatPoint(
                start=start,
                predictions=_count("predictions", group, selection),
                threats=_count("threats_detected", group, selection),
                threat_rate=compute("threat_rate", group, selection, NO_PRICES),
            )
            for start, group in buckets
        ]

    return ThreatsRead(
        period=period_read(period),
        resolution=chosen,
        models=[ModelThreats(model_name=name, points=points(name)) for name in names],
    )


async def get_compliance(db: Any, sdk: MainAPIClient, period: Period) -> ComplianceRead:
    """The data-privacy service's compliance status (read live) and every model version's SLA compliance."""
    privacy, status = await read_live(sdk.data_privacy.get_compliance_status())
    return ComplianceRead(
        period=period_read(period),
        privacy=privacy,
        slas=await slas.get_compliance_all(db, period),
        sources={"data-privacy": status},
    )
