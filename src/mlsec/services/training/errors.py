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


class DatasetChangedError(ConflictError):
    """The stored file is no longer what the database says (changed on disk, or an erasure in flight)."""

    def __init__(self, name: str, version: int):
        super().__init__(
            f"dataset {name!r} version {version} changed on disk since it was recorded; retry, or re-upload it",
            details={"dataset": name, "version": version},
        )


class ConsentMissingError(ConflictError):
    """Training refused: rows of the dataset belong to subjects without consent for training."""

    def __init__(self, name: str, version: int, subject_ids: list[str], count: int):
        shown = ", ".join(subject_ids[:20]) + (", ..." if count > 20 else "")
        super().__init__(
            f"dataset {name!r} version {version} holds rows of {count} data subject(s) without consent for "
            f"training: {shown}",
            details={"dataset": name, "version": version, "count": count, "subject_ids": subject_ids[:20]},
        )


class ConsentCheckUnavailableError(ServiceUnavailableError):
    """Consent is required and the data-privacy service could not answer."""

    def __init__(self, name: str, version: int, problem: str):
        super().__init__(
            f"{problem}, so consent for training on dataset {name!r} version {version} cannot be checked; start "
            "the data-privacy service (or fix it), or set MLSEC_TRAINING_CONSENT_CHECK=off to train without the check",
            details={"dependency": "data-privacy", "dataset": name, "version": version},
        )
