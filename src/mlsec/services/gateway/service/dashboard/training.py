"""The training page: datasets (with an upload), the latest jobs with their live progress, a form to start a
training or a retraining, and a finished run's figures.

Progress moves in the browser (static/pages/training.js follows the `training` topic's `job.*` events and
updates the job's row in place); the parts here are what a refresh or a new job shows.

A run's plots (ROC and PR curves, confusion matrix: PNG artifacts of its MLflow run) are shown as images that the
browser loads through the gateway's forwarded MLflow route (`/api/mlflow/get-artifact`, the SDK's MLflow client),
with the session cookie like every other read, beside a link to the run in MLflow's UI.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from mlsec.services.gateway.service.dashboard.monitoring import DEFAULT_MODEL
from mlsec.services.gateway.service.dashboard.pages import Page, View, part

JOBS_SHOWN = 20
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PLOT_SUFFIX = ".png"


async def datasets(view: View) -> dict[str, Any]:
    return {"datasets": await part(view.sdk.training.get_datasets())}


async def jobs(view: View) -> dict[str, Any]:
    return {"jobs": await part(view.sdk.training.get_training_jobs(limit=JOBS_SHOWN))}


async def plots(view: View) -> dict[str, Any]:
    """One job's run (`?job=<id>`, else the newest succeeded job): its metrics, its plots and its MLflow run."""
    job_id = view.query.get("job", "")
    if not JOB_ID.match(job_id):
        newest = await part(view.sdk.training.get_training_jobs(status="succeeded", limit=1))
        if "unavailable" in newest:
            return {"job": newest}
        found = newest["data"].get("jobs", [])
        if not found:
            return {"job": None}
        job_id = str(found[0]["id"])
    job = await part(view.sdk.training.get_training_job(job_id))
    run_id = (job.get("data") or {}).get("mlflow_run_id")
    artifacts = await part(view.sdk.mlflow.list_artifacts(str(run_id))) if run_id else {"data": {}}
    files = (artifacts.get("data") or {}).get("files", [])
    names = sorted(
        str(f["path"]) for f in files if not f.get("is_dir") and str(f.get("path", "")).endswith(PLOT_SUFFIX)
    )
    return {"job": job, "run_id": run_id, "plots": names, "artifacts_unavailable": artifacts.get("unavailable")}


async def load(view: View) -> dict[str, Any]:
    shown = await asyncio.gather(datasets(view), jobs(view))
    return {**shown[0], **shown[1], "default_model": DEFAULT_MODEL}


PAGE = Page(
    name="training",
    title="Training",
    load=load,
    partials={"datasets": datasets, "jobs": jobs, "plots": plots},
    topics=("training",),
)
