"""The Open Inference Protocol (V2, KServe/MLServer) and MLflow's `/invocations`, on the same engine.

So a user switching from `mlflow models serve`, KServe or MLServer keeps their clients.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Path, Request

from mlsec.core.errors import InvalidInputError, ServiceUnavailableError
from mlsec.core.health import run_checks
from mlsec.core.openapi import error_responses
from mlsec.core.traffic import TrafficClass, TrafficClassDep
from mlsec.services.model_api.schemas import (
    InvocationsResponse,
    V2InferRequest,
    V2InferResponse,
    V2Live,
    V2ModelMetadata,
    V2Ready,
    V2Tensor,
    V2TensorSpec,
)
from mlsec.serving.http_errors import MODEL_ERRORS
from mlsec.serving.http_routes import ServingDep
from mlsec.serving.http_schemas import NAME, VERSION
from mlsec.serving.model import LoadedModel, Prediction, resolve_version

v2 = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"])
invocations = APIRouter(tags=["mlflow scoring protocol"])
ModelName = Annotated[str, Path(pattern=NAME)]
Version = Annotated[str, Path(pattern=VERSION)]


@v2.get("/health/live", response_model=V2Live)
async def get_v2_live() -> V2Live:
    return V2Live(live=True)


@v2.get("/health/ready", response_model=V2Ready, responses=error_responses(503))
async def get_v2_ready(request: Request) -> V2Ready:
    """Ready when the service's critical dependencies answer (as `/health/ready`); models load on demand."""
    checks = [c for c in request.app.state.dependency_checks if c.critical]
    down = [name for name, result in (await run_checks(checks)).items() if result.status == "down"]
    if down:
        raise ServiceUnavailableError(f"not ready: {', '.join(down)} down", details={"down": down})
    return V2Ready(ready=True)


async def _metadata(serving: ServingDep, name: str, version: str | None) -> V2ModelMetadata:
    resolved = await anyio.to_thread.run_sync(
        lambda: resolve_version(
            serving.repository.tracking_uri, name, version, default_alias=serving.settings.default_alias
        )
    )
    loaded = [i for i in serving.repository.loaded() if i.name == name]
    versions = sorted({resolved, *(i.version for i in loaded)}, key=lambda v: int(v) if v.isdigit() else 0)
    classes = next((i.classes for i in loaded if i.version == resolved), [])
    return V2ModelMetadata(
        name=name,
        versions=versions,
        platform="mlsec_sklearn",
        inputs=[V2TensorSpec(name="text", datatype="BYTES", shape=[-1])],
        outputs=[
            V2TensorSpec(name="label", datatype="BYTES", shape=[-1]),
            V2TensorSpec(name="score", datatype="FP64", shape=[-1]),
            V2TensorSpec(name="probabilities", datatype="FP64", shape=[-1, len(classes) or -1]),
        ],
    )


@v2.get("/models/{model_name}", response_model=V2ModelMetadata, responses=MODEL_ERRORS)
async def get_v2_model(model_name: ModelName, serving: ServingDep) -> V2ModelMetadata:
    return await _metadata(serving, model_name, None)


@v2.get("/models/{model_name}/versions/{version}", response_model=V2ModelMetadata, responses=MODEL_ERRORS)
async def get_v2_model_version(model_name: ModelName, version: Version, serving: ServingDep) -> V2ModelMetadata:
    return await _metadata(serving, model_name, version)


def _is_ready(serving: ServingDep, name: str, version: str | None) -> bool:
    return any(
        i.name == name and (version is None or i.version == version or version in i.aliases)
        for i in serving.repository.loaded()
    )


@v2.get("/models/{model_name}/ready", response_model=V2Ready, responses=MODEL_ERRORS)
async def get_v2_model_ready(model_name: ModelName, serving: ServingDep) -> V2Ready:
    """Ready when a version of the model is loaded (load it with /models/load or a first request)."""
    return V2Ready(name=model_name, ready=_is_ready(serving, model_name, None))


@v2.get("/models/{model_name}/versions/{version}/ready", response_model=V2Ready, responses=MODEL_ERRORS)
async def get_v2_model_version_ready(model_name: ModelName, version: Version, serving: ServingDep) -> V2Ready:
    return V2Ready(name=model_name, ready=_is_ready(serving, model_name, version))


def _inputs(request: V2InferRequest) -> list[Any]:
    """Texts from one BYTES tensor, or rows from one tensor per column (tabular)."""
    if len(request.inputs) == 1 and request.inputs[0].datatype == "BYTES":
        tensor = request.inputs[0]
        if not all(isinstance(x, str) for x in tensor.data):
            raise InvalidInputError("BYTES input data must be strings")
        return list(tensor.data)
    lengths = {len(t.data) for t in request.inputs}
    if len(lengths) != 1:
        raise InvalidInputError("every input tensor must have the same length (one value per row)")
    return [
        dict(zip((t.name for t in request.inputs), row, strict=True))
        for row in zip(*(t.data for t in request.inputs), strict=True)
    ]


def _outputs(model: LoadedModel, predictions: list[Prediction]) -> list[V2Tensor]:
    n = len(predictions)
    outputs = [V2Tensor(name="label", shape=[n], datatype="BYTES", data=[str(p.label) for p in predictions])]
    if all(p.score is not None for p in predictions):
        outputs.append(V2Tensor(name="score", shape=[n], datatype="FP64", data=[p.score for p in predictions]))
    if all(p.probabilities is not None for p in predictions) and model.classes:
        flat = [p.probabilities[c] for p in predictions for c in model.classes]  # type: ignore[index]
        outputs.append(
            V2Tensor(
                name="probabilities",
                shape=[n, len(model.classes)],
                datatype="FP64",
                data=flat,
                parameters={"classes": model.classes},
            )
        )
    return outputs


async def _infer(
    serving: ServingDep, name: str, version: str | None, request: V2InferRequest, traffic: TrafficClass
) -> V2InferResponse:
    items = _inputs(request)
    serving.check_batch(len(items))
    serving.check_texts([x for x in items if isinstance(x, str)])
    model, predictions, _ = await serving.predict_many(name, items, version, traffic)
    return V2InferResponse(
        model_name=model.name, model_version=model.version, id=request.id, outputs=_outputs(model, predictions)
    )


@v2.post("/models/{model_name}/infer", response_model=V2InferResponse, responses=MODEL_ERRORS)
async def infer_v2(
    model_name: ModelName, request: V2InferRequest, serving: ServingDep, traffic: TrafficClassDep
) -> V2InferResponse:
    """Inference on the model's champion, in the Open Inference Protocol's tensors."""
    return await _infer(serving, model_name, None, request, traffic)


@v2.post("/models/{model_name}/versions/{version}/infer", response_model=V2InferResponse, responses=MODEL_ERRORS)
async def infer_v2_version(
    model_name: ModelName, version: Version, request: V2InferRequest, serving: ServingDep, traffic: TrafficClassDep
) -> V2InferResponse:
    return await _infer(serving, model_name, version, request, traffic)


def _mlflow_inputs(payload: dict[str, Any]) -> list[Any]:
    """The inputs of MLflow's scoring protocol: `inputs`/`instances`, `dataframe_split` or `dataframe_records`."""
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        columns, data = split.get("columns"), split.get("data")
        if not isinstance(columns, list) or not isinstance(data, list):
            raise InvalidInputError("dataframe_split needs 'columns' and 'data' lists")
        rows = [dict(zip(columns, row, strict=True)) for row in data]
    elif "dataframe_records" in payload:
        rows = payload["dataframe_records"]
    else:
        raw = payload.get("inputs", payload.get("instances"))
        if isinstance(raw, dict):  # columnar: {"text": [...]}
            rows = [dict(zip(raw.keys(), values, strict=True)) for values in zip(*raw.values(), strict=True)]
        elif isinstance(raw, list):
            rows = raw
        else:
            raise InvalidInputError("expected one of 'inputs', 'instances', 'dataframe_split', 'dataframe_records'")
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError("no input rows")
    return [r["text"] if isinstance(r, dict) and set(r) == {"text"} else r for r in rows]


@invocations.post("/invocations", response_model=InvocationsResponse, responses=MODEL_ERRORS)
async def invocations_mlflow(
    serving: ServingDep, payload: Annotated[dict[str, Any], Body()], traffic: TrafficClassDep
) -> InvocationsResponse:
    """MLflow's scoring protocol on the default model's champion: `{"predictions": [labels]}`."""
    items = _mlflow_inputs(payload)
    serving.check_batch(len(items))
    serving.check_texts([x for x in items if isinstance(x, str)])
    _, predictions, _ = await serving.predict_many(None, items, None, traffic)
    return InvocationsResponse(predictions=[p.label for p in predictions])
