"""`/training/config/{model_name}`: the stored training configuration of a model."""

from fastapi import APIRouter, Path

from mlsec.core.app import SessionDep
from mlsec.services.training import configs
from mlsec.services.training import datasets as dataset_service
from mlsec.services.training.schemas import NAME_PATTERN, TrainingConfigBody, TrainingConfigRead

router = APIRouter(prefix="/training/config", tags=["training"])
ModelPath = Path(pattern=NAME_PATTERN, description="Registered model name.")


@router.get("/{model_name}", response_model=TrainingConfigRead)
async def get_training_config(session: SessionDep, model_name: str = ModelPath) -> TrainingConfigRead:
    """The config a model is trained and retrained with; 404 when it has none."""
    row = await configs.get_row_or_raise(session, model_name=model_name)
    return TrainingConfigRead(
        model_name=model_name, config=TrainingConfigBody.model_validate(row.config), updated_at=row.updated_at
    )


@router.put("/{model_name}", response_model=TrainingConfigRead)
async def put_training_config(
    config: TrainingConfigBody, session: SessionDep, model_name: str = ModelPath
) -> TrainingConfigRead:
    """Create or replace a model's config; its datasets must exist and its params must fit its task."""
    await dataset_service.get_latest_or_raise(session, name=config.dataset)
    if config.evaluation_dataset:
        await dataset_service.get_latest_or_raise(session, name=config.evaluation_dataset)
    row = await configs.put(session, model_name=model_name, config=config)
    return TrainingConfigRead(
        model_name=model_name, config=TrainingConfigBody.model_validate(row.config), updated_at=row.updated_at
    )
