"""Report routes: generate one for a period, list the stored ones, read one's metadata, download its content."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mlsec.core.limits import Offset, RowId
from mlsec.core.openapi import error_responses
from mlsec.services.business_metrics.dependencies import BusinessDep, SessionDep
from mlsec.services.business_metrics.schemas.reports import ReportList, ReportRead, ReportRequest
from mlsec.services.business_metrics.service.period import parse_period
from mlsec.services.business_metrics.service.reports import store
from mlsec.services.business_metrics.service.reports.content import MEDIA_TYPES
from mlsec.services.business_metrics.service.reports.generate import generate

router = APIRouter(prefix="/reports", tags=["reports"])
EXTENSIONS: dict[str, str] = {"json": "json", "csv": "csv", "html": "html", "pdf": "pdf"}


def _read(info: store.ReportInfo) -> ReportRead:
    return ReportRead(
        id=info.id,
        created_at=info.created_at,
        period_start=info.period_start,
        period_end=info.period_end,
        format=info.format,
        title=info.title,
        trigger=info.trigger,
        size_bytes=info.size_bytes,
        media_type=MEDIA_TYPES[info.format],
        download_url=f"/reports/{info.id}/download",
    )


@router.post(
    "/generate", status_code=status.HTTP_201_CREATED, response_model=ReportRead, responses=error_responses(422)
)
async def generate_report(body: ReportRequest, business: BusinessDep) -> ReportRead:
    """Build, render and store a report of the period (at most 400 days); answers its metadata. The figures
    are those of `/metrics/summary`, `/costs` and `/slas/.../compliance` over the same period."""
    now = datetime.now(UTC)
    period = parse_period(body.period, body.start, body.end, now=now)
    info = await generate(
        business.ctx.db, business.settings, period=period, fmt=body.format, title=body.title, trigger="request", now=now
    )
    return _read(info)


@router.get("", response_model=ReportList)
async def get_reports(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[Offset, Query()] = 0,
) -> ReportList:
    """The stored reports, newest first, without their content."""
    rows, total = await store.get_all(session, limit=limit, offset=offset)
    return ReportList(reports=[_read(row) for row in rows], total=total, limit=limit, offset=offset)


# `:int` in the paths: /reports/generate is not a report id, so GET on it is 405 (POST only), not a 422.
@router.get("/{report_id:int}", response_model=ReportRead, responses=error_responses(404))
async def get_report(report_id: RowId, session: SessionDep) -> ReportRead:
    """One stored report's metadata; 404 when unknown (or deleted by retention)."""
    return _read(await store.get_or_raise(session, report_id))


@router.get(
    "/{report_id:int}/download",
    responses={
        **error_responses(404),
        200: {"description": "The report as an attachment.", "content": {media: {} for media in MEDIA_TYPES.values()}},
    },
)
async def download_report(report_id: RowId, session: SessionDep) -> Response:
    """The report's content as stored, with its media type, as an attachment named after its id and period."""
    info, content = await store.get_content_or_raise(session, report_id)
    filename = f"business-report-{info.id}-{info.period_start:%Y%m%dT%H%M}.{EXTENSIONS[info.format]}"
    return Response(
        content,
        media_type=MEDIA_TYPES[info.format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
