"""The dependencies analytics routes take: the running service, a database session and the caller (core's), and
the name of a monitoring config (a model, or "*" for the defaults)."""

from typing import Annotated

from fastapi import Depends, Path, Request

from mlsec.core.app import CallerDep, SessionDep
from mlsec.services.analytics.schemas.configs import CONFIG_NAME_PATTERN
from mlsec.services.analytics.state import Analytics

__all__ = ["AnalyticsDep", "CallerDep", "ConfigNamePath", "SessionDep"]


async def get_analytics(request: Request) -> Analytics:
    analytics: Analytics = request.app.state.analytics
    return analytics


AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
ConfigNamePath = Annotated[str, Path(pattern=CONFIG_NAME_PATTERN, description='A model, or "*" for the defaults.')]
"""A monitoring config's name in a route's path: a model name (mlsec.core.limits.NAME_PATTERN) or "*"."""
