"""Errors of the serving engine, as plain exceptions.

`mlsec.serving` may not import `mlsec.core`, so it cannot raise the platform's HTTP-aware errors; each
service maps these to a status code instead (noted on each class). Every message is one sentence that
names the model and version, fit to show to a client as is.
"""

from __future__ import annotations


class ServingError(Exception):
    """Base of every error the serving engine raises on purpose."""


class ModelNotFoundError(ServingError):
    """No registered model has this name (services: 404)."""

    def __init__(self, name: str):
        super().__init__(f"Model {name!r} is not registered.")
        self.name = name


class VersionNotFoundError(ServingError):
    """The model exists but the version number or alias does not (404)."""

    def __init__(self, name: str, version: str):
        what = f"version {version}" if version.isdigit() else f"alias {version!r}"
        super().__init__(f"Model {name!r} has no {what}.")
        self.name = name
        self.version = version


class ModelLoadError(ServingError):
    """The version exists but could not be downloaded or deserialised (502: the registry's content is bad)."""

    def __init__(self, name: str, version: str, reason: str):
        super().__init__(f"Model {name!r} version {version} could not be loaded: {reason}")
        self.name = name
        self.version = version
        self.reason = reason


class RegistryUnavailableError(ServingError):
    """MLflow could not be reached or answered with an error (503: retry later)."""


class NotLoadedError(ServingError):
    """An unload named something that is not loaded (404)."""


class InvalidInputError(ServingError):
    """The input does not fit the model, e.g. text given to a tabular model (422)."""
