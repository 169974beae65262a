"""Errors of the serving engine, in the platform's one error hierarchy.

Each subclasses the `mlsec.core.errors` class of its status (noted on each class), so core's one
MlsecError handler renders them all; `ServingError` is their common base, for code that catches any of
them. Every message is one sentence that names the model and version, fit to show to a client as is, and
every body names the error's class (`details={"error_type": ...}`), as serving errors always have. Input
that does not fit a model is core's own InvalidInputError (422), raised through `invalid_input`.
"""

from __future__ import annotations

from typing import Any

from mlsec.core.errors import (
    BadGatewayError,
    InvalidInputError,
    MlsecError,
    NotFoundError,
    ServiceUnavailableError,
)
from mlsec.core.openapi import error_responses


class ServingError(MlsecError):
    """Base of every error the serving engine raises on purpose (500 unless a subclass says otherwise)."""

    def __init__(self, message: str, **kwargs: Any):
        kwargs.setdefault("details", {"error_type": type(self).__name__})
        super().__init__(message, **kwargs)


class ModelNotFoundError(ServingError, NotFoundError):
    """No registered model has this name (404)."""

    def __init__(self, name: str):
        super().__init__(f"Model {name!r} is not registered.")
        self.name = name


class VersionNotFoundError(ServingError, NotFoundError):
    """The model exists but the version number or alias does not (404)."""

    def __init__(self, name: str, version: str):
        what = f"version {version}" if version.isdigit() else f"alias {version!r}"
        super().__init__(f"Model {name!r} has no {what}.")
        self.name = name
        self.version = version


class ModelLoadError(ServingError, BadGatewayError):
    """The version exists but could not be downloaded or deserialised (502: the registry's content is bad)."""

    def __init__(self, name: str, version: str, reason: str):
        super().__init__(f"Model {name!r} version {version} could not be loaded: {reason}")
        self.name = name
        self.version = version
        self.reason = reason


class RegistryUnavailableError(ServingError, ServiceUnavailableError):
    """MLflow could not be reached or answered with an error (503: retry later)."""


class NotLoadedError(ServingError, NotFoundError):
    """An unload named something that is not loaded (404)."""


def invalid_input(message: str) -> InvalidInputError:
    """Core's InvalidInputError (422) for input that does not fit the model, e.g. text given to a tabular
    model, with the `error_type` detail of the serving errors."""
    return InvalidInputError(message, details={"error_type": InvalidInputError.__name__})


_MODEL_ERRORS = (ModelNotFoundError, VersionNotFoundError, NotLoadedError, ModelLoadError, RegistryUnavailableError)
MODEL_ERRORS = error_responses(*sorted({kind.status_code for kind in _MODEL_ERRORS}))
"""`responses=` of a route that finds or loads a model: the statuses of the serving errors (422 is declared anyway)."""
