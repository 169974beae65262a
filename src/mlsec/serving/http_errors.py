"""Serving errors as HTTP answers, in the platform's envelope."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mlsec.core.errors import error_response
from mlsec.core.openapi import error_responses
from mlsec.serving.errors import (
    InvalidInputError,
    ModelLoadError,
    ModelNotFoundError,
    NotLoadedError,
    RegistryUnavailableError,
    ServingError,
    VersionNotFoundError,
)

STATUS = {
    ModelNotFoundError: 404,
    VersionNotFoundError: 404,
    NotLoadedError: 404,
    InvalidInputError: 422,
    ModelLoadError: 502,
    RegistryUnavailableError: 503,
}


MODEL_ERRORS = error_responses(*sorted(set(STATUS.values()) - {422}))
"""`responses=` of a route that finds or loads a model: the statuses of the serving errors (422 is declared anyway)."""


def status_of(exc: ServingError) -> int:
    for kind, status in STATUS.items():
        if isinstance(exc, kind):
            return status
    return 500


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServingError)
    return error_response(request, status_of(exc), str(exc), {"error_type": type(exc).__name__})


def install_serving_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServingError, _handle)
