"""`/training/config/{model_name}`: the stored training configuration of a model."""

from fastapi import APIRouter

from mlsec.core.limits import ModelNamePath
from mlsec.services.training.dependencies import SessionDep
from mlsec.services.training.schemas.configs import TrainingConfigBody, TrainingConfigRead
from mlsec.services.training.service import configs, datasets

router = APIRouter(prefix="/training/config", tags=["training"])


@router.get("/{model_name}", response_model=TrainingConfigRead)
async def get_training_config(session: SessionDep, model_name: ModelNamePath) -> TrainingConfigRead:
    """The config a model is trained and retrained with; 404 when it has none."""
    return await configs.get_or_raise(session, model_name=model_name)


@router.put("/{model_name}", response_model=TrainingConfigRead)
async def put_training_config(
    config: TrainingConfigBody, session: SessionDep, model_name: ModelNamePath
) -> TrainingConfigRead:
    """Create or replace a model's config; its datasets must exist and its params must fit its task."""
    await datasets.get_or_raise(session, name=config.dataset)
    if config.evaluation_dataset:
        await datasets.get_or_raise(session, name=config.evaluation_dataset)
    return await configs.update(session, model_name=model_name, config=config)
