"""Typed dependencies of the analytics routes."""

from typing import Annotated

from fastapi import Depends, Request

from mlsec.services.analytics.state import Analytics


async def get_analytics(request: Request) -> Analytics:
    analytics: Analytics = request.app.state.analytics
    return analytics


AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
