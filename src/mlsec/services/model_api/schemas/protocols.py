"""Request and response models of the Open Inference Protocol (V2) and MLflow's scoring protocol."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class V2Tensor(BaseModel):
    """An Open Inference Protocol (V2) tensor."""

    name: str = Field(min_length=1, max_length=128)
    shape: list[int]
    datatype: str = Field(pattern=r"^(BYTES|BOOL|INT8|INT16|INT32|INT64|UINT8|UINT16|UINT32|UINT64|FP16|FP32|FP64)$")
    data: list[Any]
    parameters: dict[str, Any] | None = None


class V2InferRequest(BaseModel):
    id: str | None = Field(None, max_length=128)
    inputs: list[V2Tensor] = Field(min_length=1)
    parameters: dict[str, Any] | None = None


class V2InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None
    outputs: list[V2Tensor]


class V2TensorSpec(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class V2ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[V2TensorSpec]
    outputs: list[V2TensorSpec]


class V2Ready(BaseModel):
    name: str | None = None
    ready: bool


class V2Live(BaseModel):
    live: bool


class InvocationsResponse(BaseModel):
    predictions: list[Any]
