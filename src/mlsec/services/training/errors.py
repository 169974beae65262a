"""Errors of the training service."""

from mlsec.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceUnavailableError,
)


class DatasetNotFoundError(NotFoundError):
    def __init__(self, name: str):
        super().__init__(f"dataset {name!r} not found", details={"dataset": name})


class JobNotFoundError(NotFoundError):
    def __init__(self, job_id: str):
        super().__init__(f"training job {job_id!r} not found", details={"job_id": job_id})


class ModelNotFoundError(NotFoundError):
    def __init__(self, name: str):
        super().__init__(f"model {name!r} not found", details={"model_name": name})


class ConfigNotFoundError(NotFoundError):
    def __init__(self, name: str):
        super().__init__(
            f"no training config for model {name!r}; PUT /training/config/{name} or train it first",
            details={"model_name": name},
        )


class InvalidDatasetError(InvalidInputError):
    """The uploaded file is not a usable dataset; details name the rows and reasons."""


class UploadTooLargeError(PayloadTooLargeError):
    def __init__(self, limit: int, setting: str):
        super().__init__(
            f"upload exceeds the limit of {limit} bytes (setting {setting})", details={"limit_bytes": limit}
        )


class JobNotCancellableError(ConflictError):
    def __init__(self, job_id: str, status: str):
        super().__init__(f"job {job_id!r} is already {status}", details={"job_id": job_id, "status": status})


class RegistryUnavailableError(ServiceUnavailableError):
    def __init__(self, reason: str):
        super().__init__(f"MLflow registry unavailable: {reason}", details={"dependency": "mlflow"})
