"""The MLflow registry, asked by name: which version an alias or number means, which models have a champion.

Everything here blocks (MLflow's client is synchronous); the repository runs it in worker threads. The MLflow
client is always built from the tracking URI passed in, never from MLflow's global state, so one process can
serve from any registry without `mlflow.set_tracking_uri`.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from typing import Any

from mlsec.serving.errors import ModelNotFoundError, RegistryUnavailableError, VersionNotFoundError

# MLflow error codes that mean "no such model / version / alias" rather than "MLflow is broken".
_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"})
# A dead MLflow should fail a request in seconds; MLflow's defaults retry for minutes.
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
_import_lock = threading.Lock()


@functools.cache
def import_mlflow() -> Any:
    """MLflow with the modules we use imported once, quietly: importing mlflow.pyfunc warns about MLflow's
    own type hints (a UserWarning that is an error wherever warnings are, e.g. under pytest)."""
    with _import_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow
        import mlflow.artifacts
        import mlflow.models
        import mlflow.pyfunc
        import mlflow.sklearn

    return mlflow


def mlflow_client(tracking_uri: str) -> Any:
    """A client of the registry at `tracking_uri` (also the registry URI), failing fast when it is down."""
    for key, value in _HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    return import_mlflow().MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _is_not_found(exc: Exception) -> bool:
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code in _NOT_FOUND_CODES


def _unavailable(exc: Exception) -> RegistryUnavailableError:
    return RegistryUnavailableError(f"The MLflow registry is unavailable: {type(exc).__name__}: {str(exc)[:300]}")


def _model_exists(client: Any, name: str) -> bool:
    try:
        client.get_registered_model(name)
    except Exception as exc:
        if _is_not_found(exc):
            return False
        raise _unavailable(exc) from exc
    return True


def resolve_version(tracking_uri: str, name: str, version: str | None, *, default_alias: str = "champion") -> str:
    """Blocking: the version number that `version` means (None: the default alias; digits: that version,
    checked to exist; anything else: an alias)."""
    client = mlflow_client(tracking_uri)
    reference = default_alias if version is None else version
    try:
        if reference.isdigit():
            found = client.get_model_version(name, reference)
        else:
            found = client.get_model_version_by_alias(name, reference)
    except Exception as exc:
        if not _is_not_found(exc):
            raise _unavailable(exc) from exc
        if not _model_exists(client, name):
            raise ModelNotFoundError(name) from exc
        raise VersionNotFoundError(name, reference) from exc
    return str(found.version)


def registered_champions(tracking_uri: str, alias: str = "champion") -> list[str]:
    """Blocking: the names of registered models that have `alias`, sorted."""
    client = mlflow_client(tracking_uri)
    names: list[str] = []
    token: str | None = None
    try:
        while True:
            page = client.search_registered_models(max_results=1000, page_token=token)
            names.extend(model.name for model in page if alias in (getattr(model, "aliases", None) or {}))
            token = getattr(page, "token", None)
            if not token:
                break
    except Exception as exc:
        raise _unavailable(exc) from exc
    return sorted(names)
