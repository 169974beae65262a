"""Stored monitoring configs: a model's own, else the defaults row ("*"), else the built-in defaults."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.analytics.models import MonitoringConfig
from mlsec.services.analytics.schemas.configs import (
    DEFAULT_MODEL,
    AutoRetrainSettings,
    DriftSettings,
    MonitoringConfigBody,
    MonitoringConfigRead,
    PromotionSettings,
)


async def get(session: AsyncSession, *, model_name: str) -> MonitoringConfigRead:
    """The config that applies to a model, and whether it is the model's own."""
    rows = (
        await session.scalars(
            select(MonitoringConfig).where(MonitoringConfig.model_name.in_([model_name, DEFAULT_MODEL]))
        )
    ).all()
    by_name = {row.model_name: row for row in rows}
    row = by_name.get(model_name) or by_name.get(DEFAULT_MODEL)
    body = MonitoringConfigBody.model_validate(row.config) if row else MonitoringConfigBody()
    return MonitoringConfigRead(**body.model_dump(), model_name=model_name, stored=model_name in by_name)


async def get_all(session: AsyncSession) -> list[MonitoringConfigRead]:
    """Every stored config, the defaults first."""
    rows = (await session.scalars(select(MonitoringConfig).order_by(MonitoringConfig.model_name))).all()
    return [
        MonitoringConfigRead(
            **MonitoringConfigBody.model_validate(r.config).model_dump(), model_name=r.model_name, stored=True
        )
        for r in rows
    ]


async def _write(session: AsyncSession, *, model_name: str, config: MonitoringConfigBody) -> MonitoringConfigRead:
    """Store a model's config (or the defaults, for "*")."""
    row = await session.get(MonitoringConfig, model_name)
    if row is None:
        row = MonitoringConfig(model_name=model_name, config=config.model_dump(mode="json"))
        session.add(row)
    else:
        row.config = config.model_dump(mode="json")
    await session.flush()
    return MonitoringConfigRead(**config.model_dump(), model_name=model_name, stored=True)


async def update(
    session: AsyncSession,
    *,
    model_name: str,
    drift: DriftSettings | None = None,
    auto_retrain: AutoRetrainSettings | None = None,
    promotion: PromotionSettings | None = None,
) -> MonitoringConfigRead:
    """Store the sections given; the others keep what applies to the model now (its own, else the defaults)."""
    current = await get(session, model_name=model_name)
    body = MonitoringConfigBody(
        drift=drift or current.drift,
        auto_retrain=auto_retrain or current.auto_retrain,
        promotion=promotion or current.promotion,
    )
    return await _write(session, model_name=model_name, config=body)
