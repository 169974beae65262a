"""Production predictions from the prediction logs of the two serving services, read through the SDK.

Each log is read per model, paged by id from the cursor (`predictions:<service>`: the last id read per model);
the rollups and the cursor are written in one transaction, so a restart goes on exactly where the last commit
left. Only the `production` traffic class is read: red-team runs and evaluations never count as business.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mlsec.client.serving import ModelAPIClient, ModelCacheClient
from mlsec.core.traffic import PRODUCTION
from mlsec.services.business_metrics.service import cursors
from mlsec.services.business_metrics.service.rollups import PredictionSample, add_predictions
from mlsec.services.business_metrics.state import BusinessMetrics

SERVING_SERVICES = ("model-api", "model-cache")


def _client(business: BusinessMetrics, service: str) -> ModelAPIClient | ModelCacheClient:
    return business.sdk.model_api if service == "model-api" else business.sdk.model_cache


def _sample(service: str, record: dict[str, Any]) -> PredictionSample:
    return PredictionSample(
        at=datetime.fromisoformat(record["created_at"]),
        service=service,
        model_name=record["model_name"],
        model_version=str(record["model_version"]),
        label=None if record.get("label") is None else str(record["label"]),
        latency_ms=float(record["latency_ms"]),
    )


async def collect(business: BusinessMetrics, service: str) -> int:
    """Read what the service logged since its cursor; how many production predictions were counted."""
    client = _client(business, service)
    source = f"predictions:{service}"
    served = await client.get_models()
    async with business.ctx.db.session() as session:
        positions: dict[str, int] = dict(await cursors.get(session, source) or {})
    new = {str(model["name"]) for model in served.get("models", [])} - set(positions)
    if new:  # known from now on (feedback and promotions are read per known model), even before it is used
        positions.update(dict.fromkeys(new, 0))
        async with business.ctx.db.session() as session:
            await cursors.update(session, source, positions)
    counted = 0
    for name in sorted(positions):
        counted += await _collect_model(business, client, source, name, positions)
    return counted


async def _collect_model(
    business: BusinessMetrics,
    client: ModelAPIClient | ModelCacheClient,
    source: str,
    model_name: str,
    positions: dict[str, int],
) -> int:
    """Pages of one model's log (at most collect_max_pages per round), each committed with the cursor."""
    counted = 0
    settings = business.settings
    for _ in range(settings.collect_max_pages):
        page = await client.get_prediction_log(
            model_name,
            after_id=positions.get(model_name, 0),
            limit=settings.collect_page_size,
            traffic_class=PRODUCTION,
        )
        records: list[dict[str, Any]] = page.get("records", [])
        if not records:
            return counted
        samples = [_sample(client.service, record) for record in records]
        positions[model_name] = max(int(record["id"]) for record in records)
        async with business.ctx.db.session() as session:
            await add_predictions(session, samples, settings.benign_labels)
            await cursors.update(session, source, positions)
        counted += len(samples)
        if page.get("next_after_id") is None:
            return counted
    return counted
