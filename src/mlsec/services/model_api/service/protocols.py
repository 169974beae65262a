"""The Open Inference Protocol (V2, KServe/MLServer) and MLflow's scoring protocol, translated to the engine:
their inputs into texts or rows, the engine's predictions into their answers."""

from __future__ import annotations

from typing import Any

import anyio

from mlsec.core.errors import InvalidInputError
from mlsec.core.traffic import TrafficClass
from mlsec.services.model_api.schemas.protocols import (
    V2InferRequest,
    V2InferResponse,
    V2ModelMetadata,
    V2Tensor,
    V2TensorSpec,
)
from mlsec.serving.model import LoadedModel, Prediction
from mlsec.serving.registry import resolve_version
from mlsec.serving.state import ServingState


async def get_metadata(serving: ServingState, name: str, version: str | None) -> V2ModelMetadata:
    """A model's V2 metadata: the version asked (None: the default alias) and the versions loaded."""
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


def is_ready(serving: ServingState, name: str, version: str | None) -> bool:
    """Whether a version of the model (the one given: a number or an alias) is loaded."""
    return any(
        i.name == name and (version is None or i.version == version or version in i.aliases)
        for i in serving.repository.loaded()
    )


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


async def infer(
    serving: ServingState, name: str, version: str | None, request: V2InferRequest, traffic: TrafficClass
) -> V2InferResponse:
    """V2 inference: the request's tensors predicted in one batch, answered as tensors."""
    items = _inputs(request)
    serving.check_batch(len(items))
    serving.check_texts([x for x in items if isinstance(x, str)])
    model, predictions, _ = await serving.predict_many(name, items, version, traffic)
    return V2InferResponse(
        model_name=model.name, model_version=model.version, id=request.id, outputs=_outputs(model, predictions)
    )


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


async def invoke(serving: ServingState, payload: dict[str, Any], traffic: TrafficClass) -> list[Any]:
    """MLflow's scoring protocol on the default model's champion: the labels, in the order asked."""
    items = _mlflow_inputs(payload)
    serving.check_batch(len(items))
    serving.check_texts([x for x in items if isinstance(x, str)])
    _, predictions, _ = await serving.predict_many(None, items, None, traffic)
    return [p.label for p in predictions]
