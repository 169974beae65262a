"""Errors of the analytics service (subclasses of core's, rendered in the platform's error envelope)."""

from __future__ import annotations

from mlsec.core.errors import ConflictError, NotFoundError


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
