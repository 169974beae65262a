"""Monitored model versions: kept in the database (who added them, when), mirrored in memory for the views."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.client import ServiceCallError
from mlsec.services.control_tower.errors import (
    AlreadyMonitoredError,
    InvalidModelTypeError,
    ModelNotFoundError,
    NotMonitoredError,
    RegistryUnavailableError,
)
from mlsec.services.control_tower.models import MonitoredModel
from mlsec.services.control_tower.schemas.monitoring import MonitorRequest
from mlsec.services.control_tower.service.snapshot import VersionRecord
from mlsec.services.control_tower.service.views import MODEL_TYPES, VersionKey
from mlsec.services.control_tower.state import ControlTower


async def get_all(session: AsyncSession) -> list[MonitoredModel]:
    """Every monitored version, oldest first."""
    return list((await session.scalars(select(MonitoredModel).order_by(MonitoredModel.id))).all())


async def get(session: AsyncSession, name: str, version: str) -> MonitoredModel | None:
    statement = select(MonitoredModel).where(MonitoredModel.model_name == name, MonitoredModel.model_version == version)
    return (await session.scalars(statement)).one_or_none()


async def get_types(session: AsyncSession) -> dict[VersionKey, str]:
    return {(m.model_name, m.model_version): m.model_type for m in await get_all(session)}


async def resolve_version(tower: ControlTower, name: str, version: str) -> VersionRecord:
    """The registered version `version` names (a number, or an alias such as champion) from the snapshot, else
    from MLflow now (a version registered since the last refresh); 404 when MLflow does not have it."""
    snapshot = tower.cache.snapshot
    model = snapshot.models.get(name) if snapshot else None
    if model is None or not _find(model.versions, model.aliases, version):
        try:
            model = await tower.reader.read_model(name, {})
        except ServiceCallError as exc:
            raise RegistryUnavailableError(f"{exc.error_type}: {exc}") from exc
    found = _find(model.versions, model.aliases, version) if model else None
    if found is None:
        raise ModelNotFoundError(name, version)
    return found


def _find(versions: list[VersionRecord], aliases: dict[str, str], version: str) -> VersionRecord | None:
    number = aliases.get(version, version)
    return next((v for v in versions if v.version == number), None)


async def create(
    session: AsyncSession, tower: ControlTower, name: str, version: str, body: MonitorRequest, *, caller: str
) -> MonitoredModel:
    """Start monitoring a version: 400 for a bad type or a version already monitored, 404 when MLflow lacks it."""
    model_type = body.model_type.strip().lower()
    if model_type not in MODEL_TYPES:
        raise InvalidModelTypeError(body.model_type)
    found = await resolve_version(tower, name, version)
    if await get(session, name, found.version) is not None:
        raise AlreadyMonitoredError(name, found.version)
    row = MonitoredModel(
        model_name=name,
        model_version=found.version,
        model_type=model_type,
        registered_by=(body.registered_by or caller).strip() or caller,
        added_by=caller,
        registered_at=now(),
        run_id=found.run_id,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request added it first
        raise AlreadyMonitoredError(name, found.version) from exc
    tower.monitored_types[(name, found.version)] = model_type
    tower.rebuild()
    return row


def now() -> datetime:
    return datetime.now(UTC)


def version_number(tower: ControlTower, name: str, version: str) -> str:
    """The version number `version` names: itself, or the version an alias of the model points to."""
    snapshot = tower.cache.snapshot
    model = snapshot.models.get(name) if snapshot else None
    return model.aliases.get(version, version) if model else version


async def delete(session: AsyncSession, tower: ControlTower, name: str, version: str) -> str:
    """Stop monitoring a version (an alias names its current version); 404 when it is not monitored."""
    number = version_number(tower, name, version)
    row = await get(session, name, number)
    if row is None:
        raise NotMonitoredError(name, version)
    await session.delete(row)
    await session.flush()
    tower.monitored_types.pop((name, number), None)
    tower.rebuild()
    return number
