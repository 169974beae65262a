"""Typed dependencies of the training routes."""

from typing import Annotated

from fastapi import Depends, Request

from mlsec.services.training.service import TrainingService


def get_training(request: Request) -> TrainingService:
    service: TrainingService = request.app.state.training
    return service


TrainingDep = Annotated[TrainingService, Depends(get_training)]
