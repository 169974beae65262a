"""The SLA promotion criterion: the challenger's production figures against the champion's SLA in business-metrics.

Opt-in (`promotion.sla` in the model's config). The SLA is the one business-metrics applies to the champion: the
champion version's own, else the model-wide one; none: the criterion does not apply. The challenger's figures are
what business-metrics measured of its production traffic over the SLA's window ending now (p99 latency of its
predictions, availability and error rate of the serving services that answered it); the platform routes no
canary or shadow share by itself, so a challenger has figures only when callers asked for it by version. With
no figure at all, `promotion.sla_unmeasured` decides (pass, and the evidence says it was not judged; or reject).
Business-metrics not answering, or answering with an error, fails closed: the check fails and says why.
"""

from __future__ import annotations

from typing import Any

from mlsec.client import ServiceCallError
from mlsec.ml.promotion import Check, SlaObjective, sla_check, sla_not_checked, sla_unavailable
from mlsec.services.analytics.schemas.configs import PromotionSettings
from mlsec.services.analytics.state import Analytics

# SLA field -> (the measured figure it bounds, True when higher is better)
OBJECTIVES: dict[str, tuple[str, bool]] = {
    "latency_p99_ms": ("latency_p99_ms", False),
    "availability_min": ("availability", True),
    "error_rate_max": ("error_rate", False),
}


def _champion_sla(slas: list[dict[str, Any]], model_name: str, champion: str) -> dict[str, Any] | None:
    own = [s for s in slas if s.get("model_name") == model_name]
    return next((s for s in own if s.get("model_version") == champion), None) or next(
        (s for s in own if s.get("model_version") is None), None
    )


def _unreachable(exc: ServiceCallError) -> Check:
    status = f"status {exc.status_code}" if exc.status_code is not None else exc.error_type
    return sla_unavailable(f"business-metrics did not give the SLA figures ({status})")


async def check(
    analytics: Analytics, settings: PromotionSettings, *, model_name: str, champion: str, challenger: str
) -> tuple[Check, dict[str, Any]]:
    """The `sla` check of a decision, and what it saw (kept in the evidence)."""
    if not settings.sla:
        return sla_not_checked("criteria.sla is false"), {}
    client = analytics.sdk.business_metrics
    try:
        slas = list((await client.get_slas()).get("slas", []))
    except ServiceCallError as exc:
        return _unreachable(exc), {"error": exc.error_type}
    sla = _champion_sla(slas, model_name, champion)
    if sla is None:
        return sla_not_checked(f"model {model_name!r} has no SLA for its champion (version {champion})"), {}
    window = int(sla["window_minutes"])
    try:
        answer = await client.get_sla_compliance(model_name, model_version=challenger, period=f"{window}m")
    except ServiceCallError as exc:
        return _unreachable(exc), {"sla": sla, "error": exc.error_type}
    measured: dict[str, Any] = answer["versions"][0]["measured"]
    objectives = [
        SlaObjective(figure, float(sla[field]), higher)
        for field, (figure, higher) in OBJECTIVES.items()
        if sla.get(field) is not None
    ]
    source = (
        f"the champion's SLA (id {sla['id']}) on version {challenger}'s production traffic over the last {window} "
        f"min: {measured['predictions']} predictions via {', '.join(measured['services']) or 'no service'}"
    )
    figures = {o.name: measured.get(o.name) for o in objectives}
    result = sla_check(objectives, figures, source=source, unmeasured=settings.sla_unmeasured)
    return result, {"sla": sla, "window_minutes": window, "challenger_measured": measured}
