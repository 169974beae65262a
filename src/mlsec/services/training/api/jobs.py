"""`/training/*`: start, follow and cancel training jobs."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from mlsec.core.limits import ModelNameQuery, Offset
from mlsec.core.openapi import error_responses
from mlsec.core.telemetry import annotate_span
from mlsec.services.training.dependencies import SessionDep, TrainingDep
from mlsec.services.training.models import TrainingJob
from mlsec.services.training.schemas.jobs import JobDetail, JobList, JobRead, JobStatus, RetrainRequest, TrainRequest
from mlsec.services.training.service import configs, jobs

router = APIRouter(prefix="/training", tags=["training"])


def _detail(job: TrainingJob, training: TrainingDep) -> JobDetail:
    annotate_span({"mlsec.job.id": job.id, "mlsec.run.id": job.mlflow_run_id, "mlsec.model.name": job.model_name})
    return JobDetail.model_validate(
        {**JobRead.model_validate(job).model_dump(), "logs": job.logs, "mlflow_run_url": training.run_url(job)}
    )


@router.get("/jobs", response_model=JobList)
async def get_jobs(
    session: SessionDep,
    status: JobStatus | None = None,
    model_name: ModelNameQuery = None,
    kind: Annotated[str | None, Query(pattern="^(train|retrain)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> JobList:
    """Jobs, newest first, filtered by status, model and kind, a page at a time."""
    rows, total = await jobs.get_all(
        session, status=status, model_name=model_name, kind=kind, limit=limit, offset=offset
    )
    return JobList(jobs=[JobRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/jobs/{job_id}", response_model=JobDetail)
async def get_job(job_id: str, session: SessionDep, training: TrainingDep) -> JobDetail:
    """One job: status, progress 0-100, current step, metrics, log lines, MLflow run."""
    return _detail(await jobs.get_or_raise(session, job_id=job_id), training)


@router.post("/jobs/{job_id}/cancel", response_model=JobDetail, responses=error_responses(409))
async def cancel_job(job_id: str, session: SessionDep, training: TrainingDep) -> JobDetail:
    """Stop a queued or running job; 409 when it has already finished."""
    await training.cancel(job_id)
    return _detail(await jobs.get_or_raise(session, job_id=job_id), training)


@router.post("/train", status_code=202, response_model=JobDetail, responses=error_responses(409, 503))
async def train_model(
    request: TrainRequest, session: SessionDep, training: TrainingDep, background: BackgroundTasks
) -> JobDetail:
    """Queue a training job; fields left out come from the model's stored config. 409 when a dataset holds
    subjects without consent for training, 503 when the data-privacy service cannot say (consent check)."""
    config = configs.merge(await configs.get(session, model_name=request.model_name), request)
    job = await jobs.create(
        session, model_name=request.model_name, kind="train", config=config, consent=training.consent
    )
    if request.save_config:
        await configs.update(session, model_name=request.model_name, config=config)
    background.add_task(training.submit, job.id)
    return _detail(job, training)


@router.post("/retrain", status_code=202, response_model=JobDetail, responses=error_responses(404, 409, 503))
async def retrain_model(
    request: RetrainRequest, session: SessionDep, training: TrainingDep, background: BackgroundTasks
) -> JobDetail:
    """Queue a retraining: the stored config, the newest data, and labelled feedback when there is some."""
    stored = await configs.get_or_raise(session, model_name=request.model_name)
    job = await jobs.create(
        session, model_name=request.model_name, kind="retrain", config=stored.config, consent=training.consent
    )
    jobs.append_log(job, f"retrain requested: {request.reason}", limit=training.settings.max_log_lines)
    background.add_task(training.submit, job.id)
    return _detail(job, training)
