"""The dependencies control-tower routes take: the running service, a database session, the caller (core's), and
the path and query values of seed 004's routes."""

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from mlsec.core.app import CallerDep, SessionDep
from mlsec.services.control_tower.state import ControlTower

__all__ = ["CallerDep", "ControlTowerDep", "Days", "ExperimentIdPath", "RunLimit", "SessionDep"]


async def get_control_tower(request: Request) -> ControlTower:
    tower: ControlTower = request.app.state.control_tower
    return tower


ControlTowerDep = Annotated[ControlTower, Depends(get_control_tower)]
ExperimentIdPath = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="An MLflow experiment id.")]
RunLimit = Annotated[int, Query(ge=1, le=1000, description="Most runs returned, newest first.")]
Days = Annotated[int, Query(ge=1, le=365, description="How many days back the metrics reach.")]
