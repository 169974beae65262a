"""Report requests and answers: what to generate, and a stored report's metadata (its bytes come from
`/reports/{report_id}/download`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import NO_NUL_PATTERN, UtcDatetime
from mlsec.services.business_metrics.service.reports.content import ReportFormat


class ReportRequest(BaseModel):
    """`POST /reports/generate`: the period (`period` ending now, or `start` and `end`; default the last 24 h),
    the format and an optional title."""

    model_config = ConfigDict(extra="forbid")

    format: ReportFormat = Field("json", description="json, csv, html (with charts) or pdf.")
    period: str | None = Field(None, max_length=16, description="<number><m|h|d> ending now, at most 400 days.")
    start: UtcDatetime | None = Field(None, description="Start of the period (ISO 8601), instead of period.")
    end: UtcDatetime | None = Field(None, description="End of the period (exclusive); default now.")
    title: str | None = Field(
        None, min_length=1, max_length=200, pattern=NO_NUL_PATTERN, description="Default: the period it covers."
    )


class ReportRead(BaseModel):
    """A stored report without its content."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    period_start: datetime
    period_end: datetime = Field(description="Exclusive.")
    format: ReportFormat
    title: str
    trigger: str = Field(description="request (POST /reports/generate) or schedule (the daily report).")
    size_bytes: int
    media_type: str
    download_url: str = Field(description="Where its content is: GET this path.")


class ReportList(BaseModel):
    reports: list[ReportRead] = Field(description="Newest first.")
    total: int
    limit: int
    offset: int
