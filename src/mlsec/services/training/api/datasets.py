"""`/data/*`: upload datasets (small ones as a form, large ones streamed) and list them."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile

from mlsec.core.errors import InvalidInputError
from mlsec.core.limits import NAME_PATTERN
from mlsec.core.openapi import error_responses
from mlsec.services.training.dependencies import SessionDep, TrainingDep
from mlsec.services.training.schemas.datasets import DatasetList, DatasetRead, DatasetUploaded, Task
from mlsec.services.training.service import datasets

router = APIRouter(prefix="/data", tags=["data"])
NameField = Annotated[str | None, Form(pattern=NAME_PATTERN, description="Dataset name; default: the file name.")]
Column = Annotated[str, Form(min_length=1, max_length=255)]


def _feature_columns(value: str | None) -> list[str] | None:
    if value is None or not value.strip():
        return None
    return [c.strip() for c in value.split(",") if c.strip()]


async def _chunks_of(upload: UploadFile, size: int) -> AsyncIterator[bytes]:
    while chunk := await upload.read(size):
        yield chunk


def _answer(response: Response, dataset: object, created: bool) -> DatasetUploaded:
    response.status_code = 201 if created else 200
    return DatasetUploaded(dataset=DatasetRead.model_validate(dataset), created=created)


@router.post(
    "/upload-data",
    status_code=201,
    response_model=DatasetUploaded,
    responses={200: {"model": DatasetUploaded, "description": "Same content already stored."}, **error_responses(409)},
)
async def upload_data(
    response: Response,
    session: SessionDep,
    training: TrainingDep,
    file: Annotated[UploadFile, File(description="CSV, JSONL or Parquet.")],
    name: NameField = None,
    task: Annotated[Task, Form()] = "text_classification",
    text_column: Column = "text",
    label_column: Column = "label",
    feature_columns: Annotated[str | None, Form(description="Comma-separated, tabular tasks only.")] = None,
) -> DatasetUploaded:
    """Upload a dataset as a form; validated, hashed, scanned for PII (`pii_counts`), and stored as the next
    version of its name."""
    options = datasets.UploadOptions(
        name=name,
        filename=file.filename or "upload",
        task=task,
        text_column=text_column,
        label_column=label_column,
        feature_columns=_feature_columns(feature_columns),
    )
    received = await datasets.receive_to_file(
        _chunks_of(file, training.settings.upload_chunk_bytes),
        datasets_root=training.datasets_root,
        limit=training.settings.max_upload_bytes,
        setting="MLSEC_TRAINING_MAX_UPLOAD_BYTES",
    )
    dataset, created = await datasets.create(
        session, received=received, options=options, datasets_root=training.datasets_root, pii=training.pii
    )
    return _answer(response, dataset, created)


@router.post(
    "/efficient/upload-large-file",
    status_code=201,
    response_model=DatasetUploaded,
    responses={200: {"model": DatasetUploaded, "description": "Same content already stored."}, **error_responses(409)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_large_file(
    request: Request,
    response: Response,
    session: SessionDep,
    training: TrainingDep,
    filename: Annotated[str, Query(min_length=1, max_length=255, description="Decides the format.")],
    name: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    task: Task = "text_classification",
    text_column: Annotated[str, Query(min_length=1, max_length=255)] = "text",
    label_column: Annotated[str, Query(min_length=1, max_length=255)] = "label",
    feature_columns: Annotated[str | None, Query(max_length=4000)] = None,
    sha256: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="Expected checksum.")] = None,
) -> DatasetUploaded:
    """Stream a large file (the raw request body) to disk in chunks, checksummed, never held in memory; validated
    and scanned for PII a chunk of rows at a time."""
    received = await datasets.receive_to_file(
        request.stream(),
        datasets_root=training.datasets_root,
        limit=training.settings.max_large_upload_bytes,
        setting="MLSEC_TRAINING_MAX_LARGE_UPLOAD_BYTES",
    )
    if sha256 is not None and received.sha256 != sha256:
        received.path.unlink(missing_ok=True)
        raise InvalidInputError(
            "checksum mismatch: the file arrived damaged or incomplete",
            details={"expected_sha256": sha256, "received_sha256": received.sha256},
        )
    options = datasets.UploadOptions(
        name=name,
        filename=filename,
        task=task,
        text_column=text_column,
        label_column=label_column,
        feature_columns=_feature_columns(feature_columns),
    )
    dataset, created = await datasets.create(
        session, received=received, options=options, datasets_root=training.datasets_root, pii=training.pii
    )
    return _answer(response, dataset, created)


@router.get("/datasets", response_model=DatasetList)
async def get_datasets(session: SessionDep) -> DatasetList:
    """The newest version of every dataset."""
    rows = await datasets.get_all(session)
    return DatasetList(datasets=[DatasetRead.model_validate(r) for r in rows], count=len(rows))


@router.get("/datasets/{name}", response_model=DatasetList)
async def get_dataset_versions(session: SessionDep, name: str = Path(pattern=NAME_PATTERN)) -> DatasetList:
    """Every version of one dataset, newest first; 404 when there is none."""
    rows = await datasets.get_all_versions(session, name=name)
    return DatasetList(datasets=[DatasetRead.model_validate(r) for r in rows], count=len(rows))
