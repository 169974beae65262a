"""MLSEC_HOME made private before `mlsec up` starts anything in it (docs/security.md, "File modes")."""

from __future__ import annotations

from mlsec.core.database import private_sqlite_file
from mlsec.core.files import private_dir
from mlsec.core.settings import Settings

MLFLOW_STORE = ("mlflow", "mlflow.db")
"""Where `mlflow_command` keeps MLflow's SQLite store, under MLSEC_HOME."""


def prepare_home(settings: Settings) -> None:
    """The home (0700), its logs folder and, when `mlsec up` runs MLflow, MLflow's store, private before any
    process writes there. MLflow would create its SQLite file with the umask's mode (0644 as a rule), so the
    file is created first, empty and 0600 (MLflow fills an empty database as a new one), and tightened when
    an earlier run left it wider."""
    home = private_dir(settings.home)
    private_dir(settings.logs_dir)
    if settings.mlflow_managed:
        private_sqlite_file(home.joinpath(*MLFLOW_STORE))
