"""Requests and answers of `/feedback`, `/model-performance/{model}`, `/performance/metrics` and the export.

Labels are strings (the default model's are "0" and "1"); a JSON integer label is taken as its decimal string,
so `{"true_label": 1}` and `{"true_label": "1"}` mean the same. Times are UTC: a time without an offset is read
as UTC, one with an offset is converted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from mlsec.core.limits import ModelName, ModelVersion, UtcDatetime
from mlsec.core.strict import JsonFloat
from mlsec.core.traffic import PRODUCTION, TrafficClass

# Clocks of the clients that send feedback are not ours: a prediction time this far ahead is accepted.
CLOCK_SKEW = timedelta(seconds=60)
MAX_WINDOW_HOURS = 24 * 90
Average = Literal["binary", "macro"]
ExportFormat = Literal["csv", "jsonl"]
ExportPart = Literal["training", "holdout", "all"]
"""Which side of the held-out split an export holds (see services/analytics/service/feedback_data.py)."""


def _integer_as_text(value: Any) -> Any:
    """A JSON integer label (not a bool, not a float: 1.0 is not the label "1") as its decimal string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Label = Annotated[
    str,
    BeforeValidator(_integer_as_text),
    Field(min_length=1, max_length=100),
    # What is accepted, for the OpenAPI document: a JSON integer too.
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 100}, {"type": "integer"}]}, "validation"
    ),
]
StoredVersion = Annotated[ModelVersion, Field(max_length=32)]
"""A model version as feedback stores it: the one version type of mlsec.core.limits, fitting its 32-character
column."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedbackItem(_Strict):
    """One prediction with the label it should have had."""

    model_name: ModelName
    model_version: StoredVersion
    prediction: Label
    true_label: Label
    score: JsonFloat | None = Field(None, ge=0, le=1, description="P(positive class) for binary models.")
    text: str | None = Field(None, max_length=100_000, description="The input, kept for retraining exports.")
    predicted_at: UtcDatetime | None = Field(None, description="When the prediction was made; default: now.")
    traffic_class: TrafficClass = Field(
        PRODUCTION, description="The prediction's traffic class: performance figures count production only."
    )

    @field_validator("text")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        # A blank text cannot train anything (a dataset upload refuses it), so it is not kept.
        return value if value is not None and value.strip() else None

    @field_validator("predicted_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("predicted_at is in the future")
        return value


class FeedbackBatch(_Strict):
    """`POST /feedback`."""

    items: list[FeedbackItem] = Field(min_length=1, max_length=10_000)


class ModelTouched(BaseModel):
    model_name: str
    versions: list[str]
    count: int


class FeedbackRecorded(BaseModel):
    stored: int
    models: list[ModelTouched]


class Confusion(BaseModel):
    """Rows: the true label; columns: the prediction, both in the order of `labels`."""

    labels: list[str]
    matrix: list[list[int]]
    true_positive: int | None = Field(None, description="Binary models only, for the positive label.")
    false_positive: int | None = None
    true_negative: int | None = None
    false_negative: int | None = None


class Metrics(BaseModel):
    """Metrics of a set of feedback; all null when it is empty (`count` 0)."""

    count: int = Field(description="Support: how many feedback rows these metrics are computed on.")
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None
    roc_auc_reason: str | None = Field(None, description="Why roc_auc is null.")
    scored: int = Field(description="Rows that carry a score; ROC-AUC is computed on these.")
    confusion: Confusion | None


class BucketMetrics(Metrics):
    start: datetime
    end: datetime


class VersionPerformance(BaseModel):
    model_version: str
    last_feedback_at: datetime = Field(description="The newest feedback of this version, at any time.")
    metrics: Metrics
    series: list[BucketMetrics]


class LabelSpaceRead(BaseModel):
    average: Average = Field(description="binary: for the positive label; macro: mean over the labels present.")
    positive_label: str | None
    labels: list[str]


class ModelPerformance(LabelSpaceRead):
    model_name: str
    window_hours: float
    window_start: datetime
    window_end: datetime
    buckets: int
    bucket_seconds: float
    time_basis: str
    count: int = Field(description="Feedback rows in the window, every version.")
    latest_version: str
    versions: list[VersionPerformance] = Field(description="Newest feedback first.")


class VersionMetrics(BaseModel):
    model_version: str
    last_feedback_at: datetime
    metrics: Metrics


class ModelMetrics(LabelSpaceRead):
    model_name: str
    latest_version: str
    latest: Metrics = Field(description="The latest version's metrics over the window.")
    versions: list[VersionMetrics]


class PerformanceMetrics(BaseModel):
    window_hours: float
    window_start: datetime
    window_end: datetime
    time_basis: str
    models: list[ModelMetrics]
    count: int
