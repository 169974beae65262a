"""Datasets as `/data/*` answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["text_classification", "tabular_classification", "tabular_regression"]


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    version: int
    filename: str
    format: str
    sha256: str
    size_bytes: int
    rows: int
    task: Task
    text_column: str | None
    label_column: str
    feature_columns: list[str] | None
    columns: list[str]
    label_counts: dict[str, int]
    pii_counts: dict[str, int] | None = Field(
        description="Findings per PII type in the text column ({} for none or no text column); null for a "
        "version uploaded before uploads were scanned."
    )
    created_at: datetime


class DatasetUploaded(BaseModel):
    dataset: DatasetRead
    created: bool = Field(description="False when the same content was already stored under this name.")


class DatasetList(BaseModel):
    datasets: list[DatasetRead]
    count: int
