"""Training configurations, stored per model and reused by retraining."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.errors import InvalidInputError
from mlsec.ml.text_model import TextModelParams
from mlsec.ml.training import TabularParams
from mlsec.services.training.errors import ConfigNotFoundError
from mlsec.services.training.models import TrainingConfig
from mlsec.services.training.schemas.configs import TrainingConfigBody, TrainingConfigRead
from mlsec.services.training.schemas.jobs import TrainRequest


def validate_params(task: str, params: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters checked against the task's model; 422 naming the bad keys."""
    try:
        if task == "text_classification":
            return TextModelParams.from_dict(params).to_dict()
        return TabularParams.from_dict(params).to_dict()
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"invalid params for {task}: {exc}", details={"task": task}) from None


def _read(row: TrainingConfig) -> TrainingConfigRead:
    return TrainingConfigRead(
        model_name=row.model_name, config=TrainingConfigBody.model_validate(row.config), updated_at=row.updated_at
    )


async def get(session: AsyncSession, *, model_name: str) -> TrainingConfigRead | None:
    """The stored config of a model, or None."""
    row = await session.get(TrainingConfig, model_name)
    return None if row is None else _read(row)


async def get_or_raise(session: AsyncSession, *, model_name: str) -> TrainingConfigRead:
    """The stored config of a model; 404 when the model has none."""
    stored = await get(session, model_name=model_name)
    if stored is None:
        raise ConfigNotFoundError(model_name)
    return stored


async def update(session: AsyncSession, *, model_name: str, config: TrainingConfigBody) -> TrainingConfigRead:
    """Create or replace a model's config (params validated for its task)."""
    stored = config.model_copy(update={"params": validate_params(config.task, config.params)})
    row = await session.get(TrainingConfig, model_name)
    if row is None:
        row = TrainingConfig(model_name=model_name, config=stored.model_dump())
        session.add(row)
    else:
        row.config = stored.model_dump()
    await session.flush()
    return _read(row)


def merge(stored: TrainingConfigRead | None, request: TrainRequest) -> TrainingConfigBody:
    """A training request's fields over the stored config; 422 when neither names a dataset."""
    overrides = request.model_dump(exclude_none=True, exclude={"model_name", "save_config"})
    if stored is None and "dataset" not in overrides:
        raise InvalidInputError(
            f"no dataset given and no stored config for model {request.model_name!r}",
            details={"model_name": request.model_name},
        )
    base = stored.config.model_dump() if stored else {}
    return TrainingConfigBody.model_validate({**base, **overrides})
