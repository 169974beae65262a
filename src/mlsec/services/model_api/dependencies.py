"""Typed dependencies of the model API's routes."""

from typing import Annotated

from fastapi import Depends

from mlsec.serving.state import ServingState, get_serving

ServingDep = Annotated[ServingState, Depends(get_serving)]
"""The running serving engine: the model repository, the prediction log and the limits."""
