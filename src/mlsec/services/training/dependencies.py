"""The dependencies training routes take: the running service and a database session (core's)."""

from typing import Annotated

from fastapi import Depends, Request

from mlsec.core.app import SessionDep
from mlsec.services.training.state import TrainingService

__all__ = ["SessionDep", "TrainingDep"]


def get_training(request: Request) -> TrainingService:
    service: TrainingService = request.app.state.training
    return service


TrainingDep = Annotated[TrainingService, Depends(get_training)]
