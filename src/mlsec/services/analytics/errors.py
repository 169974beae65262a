"""Errors of the analytics service (subclasses of core's, rendered in the platform's error envelope)."""

from __future__ import annotations

from mlsec.client.batching import ClassifyError
from mlsec.core.errors import ConflictError, MlsecError, NotFoundError, ServiceUnavailableError


class DriftRunNotFoundError(NotFoundError):
    def __init__(self, run_id: int):
        super().__init__(f"drift run {run_id} not found", details={"run_id": run_id})


class AlertNotFoundError(NotFoundError):
    def __init__(self, alert_id: int):
        super().__init__(f"alert {alert_id} not found", details={"alert_id": alert_id})


class NotEnoughTrafficError(ConflictError):
    """A live check needs a minimum of predictions in its window."""

    def __init__(self, model_name: str, rows: int, needed: int, window_minutes: float):
        super().__init__(
            f"model {model_name!r} has {rows} logged predictions in the last {window_minutes:g} minutes; "
            f"a drift check needs at least {needed} (drift config min_rows)",
            details={"model_name": model_name, "rows": rows, "min_rows": needed, "window_minutes": window_minutes},
        )


class ReferenceNotFoundError(NotFoundError):
    def __init__(self, model_name: str, version: str, reason: str):
        super().__init__(
            f"model {model_name!r} version {version} has no usable reference profile: {reason}",
            details={"model_name": model_name, "version": version},
        )


class NoFeedbackError(NotFoundError):
    def __init__(self, model_name: str, version: str | None = None):
        what = f"model {model_name!r}" + (f" version {version!r}" if version else "")
        super().__init__(
            f"no feedback recorded for {what}: POST /feedback with its labelled predictions first",
            details={"model_name": model_name, "version": version},
        )


class NothingToExportError(NotFoundError):
    def __init__(self, model_name: str):
        super().__init__(
            f"no labelled feedback with a text for model {model_name!r} in the given range: nothing to export",
            details={"model_name": model_name},
        )


class RedTeamRunNotFoundError(NotFoundError):
    def __init__(self, run_id: int):
        super().__init__(f"red-team run {run_id} not found", details={"run_id": run_id})


class ModelApiAnswerError(MlsecError):
    """The model API answered, but could not label the texts (502: the fault is upstream)."""

    status_code = 502


def model_api_error(exc: ClassifyError) -> MlsecError:
    """404 when the model (version) is not served, 503 when the model API is down, 502 for other refusals."""
    details = {"dependency": "model-api", "upstream_status": exc.status_code}
    if exc.kind == "not_served":
        return NotFoundError(str(exc), details=details)
    if exc.kind == "unavailable":
        return ServiceUnavailableError(str(exc), details=details)
    return ModelApiAnswerError(str(exc), details=details)
