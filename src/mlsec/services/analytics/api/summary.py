"""`GET /`, `/analytics/summary`, `/analytics/trends`: the whole service in one view, and how it moves over time."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from mlsec.core.limits import ModelNameQuery
from mlsec.services.analytics.dependencies import AnalyticsDep, SessionDep
from mlsec.services.analytics.schemas.summary import AnalyticsSummary, AnalyticsTrends, ServiceInfo, TrendBucketSize
from mlsec.services.analytics.service import summary

router = APIRouter(tags=["analytics"])


@router.get("/", response_model=ServiceInfo)
async def get_info(request: Request, session: SessionDep, analytics: AnalyticsDep) -> ServiceInfo:
    """What the service watches and how: the models it knows, the monitor's schedule, whether alerts are e-mailed."""
    interval = analytics.settings.monitor_interval_seconds
    return ServiceInfo(
        service=analytics.ctx.spec.name,
        version=request.app.version,
        description=analytics.ctx.spec.description,
        monitored_models=await summary.get_monitored_models(session),
        scheduled_models=analytics.settings.monitor_models,
        monitor_enabled=interval > 0,
        monitor_interval_seconds=interval,
        email_alerts=analytics.notifier.email_enabled,
        endpoints=summary.ENDPOINT_GROUPS,
    )


@router.get("/analytics/summary", response_model=AnalyticsSummary)
async def get_analytics_summary(session: SessionDep) -> AnalyticsSummary:
    """Feedback, drift, alerts, red team, retrains and promotions in one answer, for a dashboard's first screen."""
    return await summary.get_summary(session)


@router.get("/analytics/trends", response_model=AnalyticsTrends)
async def get_analytics_trends(
    session: SessionDep,
    model_name: ModelNameQuery = None,
    days: Annotated[int, Query(ge=1, le=365)] = 7,
    bucket: TrendBucketSize = "day",
) -> AnalyticsTrends:
    """Per UTC hour or day, oldest first and empty buckets included: feedback volume and quality, drift runs,
    alerts and red-team detection, so a change is seen next to what may have caused it."""
    return await summary.get_trends(session, days=days, bucket=bucket, model_name=model_name)
