"""`/feedback`, `/model-performance/*`, `/performance/metrics`, `/export/production-data/*`: how models do on
labelled production traffic, and that traffic as training data."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from mlsec.core.limits import VERSION_PATTERN, ModelNamePath, UtcDatetime
from mlsec.services.analytics.dependencies import AnalyticsDep, SessionDep
from mlsec.services.analytics.schemas.performance import (
    MAX_WINDOW_HOURS,
    ExportFormat,
    ExportPart,
    FeedbackBatch,
    FeedbackRecorded,
    ModelPerformance,
    PerformanceMetrics,
)
from mlsec.services.analytics.service import export, performance

router = APIRouter(tags=["performance"])
WindowHours = Annotated[
    float, Query(gt=0, le=MAX_WINDOW_HOURS, description="The window ends now and reaches this far back.")
]


@router.post("/feedback", status_code=201, response_model=FeedbackRecorded)
async def record_feedback(body: FeedbackBatch, session: SessionDep, analytics: AnalyticsDep) -> FeedbackRecorded:
    """Store predictions with their true labels: the ground truth every performance figure is measured on."""
    return await performance.create_feedback(session, items=body.items, ctx=analytics.ctx)


@router.get("/model-performance/{model_name}", response_model=ModelPerformance)
async def get_model_performance(
    model_name: ModelNamePath,
    session: SessionDep,
    window_hours: WindowHours = 24.0,
    buckets: Annotated[int, Query(ge=1, le=500, description="Equal time buckets of the series.")] = 24,
    version: Annotated[str | None, Query(max_length=32, pattern=VERSION_PATTERN)] = None,
) -> ModelPerformance:
    """Per version, the window's metrics and their series over time, so a drop shows when it began; 404 when the
    model (or the version) has no feedback at all, zero counts when only the window is empty."""
    return await performance.get_model_performance(
        session, model_name=model_name, window_hours=window_hours, buckets=buckets, version=version
    )


@router.get("/performance/metrics", response_model=PerformanceMetrics)
async def get_performance_metrics(session: SessionDep, window_hours: WindowHours = 24.0) -> PerformanceMetrics:
    """Every model with feedback at a glance: its latest version's metrics over the window, and each version's."""
    return await performance.get_all_metrics(session, window_hours=window_hours)


@router.get(
    "/export/production-data/{model_name}",
    response_class=StreamingResponse,
    response_model=None,
    responses={
        200: {
            "description": "The file, as an attachment: columns text, label, model_version, created_at.",
            "content": {media: {} for media in export.MEDIA_TYPES.values()},
        }
    },
)
async def export_production_data(
    model_name: ModelNamePath,
    session: SessionDep,
    analytics: AnalyticsDep,
    since: Annotated[UtcDatetime | None, Query(description="Feedback at or after (time basis: predicted_at).")] = None,
    until: Annotated[UtcDatetime | None, Query(description="Feedback before.")] = None,
    fmt: Annotated[ExportFormat, Query(alias="format")] = "csv",
    part: Annotated[
        ExportPart,
        Query(description="training (default): without the held-out feedback promotions are judged on; holdout; all"),
    ] = "training",
) -> StreamingResponse:
    """The model's labelled production texts as a training dataset file, streamed; 404 when there are none, so
    a retrain never starts from an empty file."""
    plan = await export.plan(session, model_name=model_name, since=since, until=until, fmt=fmt, part=part)
    return StreamingResponse(
        export.stream(analytics.ctx.db, plan),
        media_type=plan.media_type,
        headers={"Content-Disposition": f"attachment; filename={plan.filename}", "X-Export-Rows": str(plan.rows)},
    )
