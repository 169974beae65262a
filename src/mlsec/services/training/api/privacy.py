"""`/privacy/*`: the training service's privacy edge, what the data-privacy service asks of the datasets (every
write here needs an admin at the gateway)."""

from fastapi import APIRouter, BackgroundTasks

from mlsec.core.openapi import error_responses
from mlsec.services.training.dependencies import SessionDep, TrainingDep
from mlsec.services.training.schemas.privacy import (
    PrivacyStatus,
    RetentionRead,
    RetentionRequest,
    SubjectsRead,
    SubjectsRequest,
)
from mlsec.services.training.service.privacy import retention, status, subjects

router = APIRouter(prefix="/privacy", tags=["privacy"])


@router.get("/status", response_model=PrivacyStatus)
async def get_privacy_status(session: SessionDep) -> PrivacyStatus:
    """Dataset versions, how many hold PII, findings per type over all of them, distinct subject hashes."""
    return await status.get(session)


@router.post("/subjects", response_model=SubjectsRead, responses=error_responses(409))
async def find_subjects(
    body: SubjectsRequest, session: SessionDep, training: TrainingDep, background: BackgroundTasks
) -> SubjectsRead:
    """The dataset versions holding rows with any of the hashes, and the model versions trained on them.
    `erase`: each version's file is rewritten without those rows (409 when a file changed on disk);
    `erase` and `retrain`: one retraining per affected model, on the erased data (`retrain` alone does nothing)."""
    context = subjects.PrivacyContext(
        datasets_root=training.datasets_root,
        pii=training.pii,
        consent=training.consent,
        log_limit=training.settings.max_log_lines,
    )
    answer = await subjects.find(session, body.value_hashes, erase=body.erase, retrain=body.retrain, ctx=context)
    for job_id in answer.retrain_jobs:
        background.add_task(training.submit, job_id)
    return answer


@router.post("/retention", response_model=RetentionRead)
async def apply_retention(body: RetentionRequest, session: SessionDep, training: TrainingDep) -> RetentionRead:
    """Dataset versions created before `older_than`: counted, and unless `dry_run` deleted (file and row). Never
    the newest version of a name, never a version a queued or running job uses."""
    matched, deleted = await retention.delete_expired(
        session, older_than=body.older_than, dry_run=body.dry_run, datasets_root=training.datasets_root
    )
    return RetentionRead(matched=matched, deleted=deleted)
