"""The control tower's errors, with seed 004's messages and status codes (400 for a bad type or a model already
monitored, 404 for what MLflow does not have), in the platform's error envelope."""

from __future__ import annotations

from mlsec.core.errors import MlsecError, NotFoundError, ServiceUnavailableError


class BadRequestError(MlsecError):
    """Seed 004 answers 400 where the platform would say 409 or 422; its contract wins here."""

    status_code = 400


class InvalidModelTypeError(BadRequestError):
    def __init__(self, given: str):
        super().__init__("Invalid model type. Must be classifier or regressor", details={"model_type": given[:64]})


class AlreadyMonitoredError(BadRequestError):
    def __init__(self, name: str, version: str):
        super().__init__("Model is already being monitored", details={"model_name": name, "model_version": version})


class ModelNotFoundError(NotFoundError):
    def __init__(self, name: str, version: str | None = None):
        details = {"model_name": name} | ({"model_version": version} if version is not None else {})
        super().__init__("Model not found in MLflow", details=details)


class NotMonitoredError(NotFoundError):
    def __init__(self, name: str, version: str):
        super().__init__("Model is not being monitored", details={"model_name": name, "model_version": version})


class ExperimentNotFoundError(NotFoundError):
    def __init__(self, experiment_id: str):
        super().__init__("Experiment not found in MLflow", details={"experiment_id": experiment_id})


class RegistryUnavailableError(ServiceUnavailableError):
    """MLflow cannot be read and there is no snapshot to answer from."""

    def __init__(self, reason: str):
        super().__init__(f"the MLflow registry is unavailable: {reason}", headers={"Retry-After": "2"})
