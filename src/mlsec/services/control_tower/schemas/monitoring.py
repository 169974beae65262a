"""Seed 004's monitoring shapes: add, remove, status, and the debug listing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class MonitorRequest(BaseModel):
    """The seed's body. `model_type` is checked by the service (400 for anything but classifier or regressor, as
    the seed answers); `registered_by` is the seed's free text, kept beside the caller the gateway authenticated."""

    model_type: str = Field(max_length=64, description="classifier or regressor.")
    registered_by: str | None = Field(None, max_length=200, description="Who is adding the model, as the client says.")


class MonitorAdded(BaseModel):
    message: str
    model_name: str
    model_version: str
    model_type: str
    registered_at: datetime
    registered_by: str
    added_by: str = Field(description="The caller the platform authenticated (api when called directly).")


class MonitorRemoved(BaseModel):
    message: str
    model_name: str
    model_version: str
    removed_at: datetime


class MonitorStatus(BaseModel):
    model_name: str
    model_version: str
    is_monitored: bool


class MonitoredEntry(BaseModel):
    model_name: str
    model_version: str
    model_type: str
    registered_at: datetime
    registered_by: str
    added_by: str
    run_id: str | None
    in_registry: bool = Field(description="Whether the snapshot still holds this version.")


class DebugMonitored(BaseModel):
    monitored_count: int
    monitored_list: list[MonitoredEntry]
    mlflow_status: str
    model_details: list[dict[str, object]] = Field(description="The monitored versions' ModelInfo.")
