"""`GET /privacy/status`, `POST /privacy/subjects` and `POST /privacy/retention`, the same in both serving
services: what the data-privacy service reads and asks of each prediction log (logic: privacy.py). Through the
gateway every write under `/privacy/` needs an admin."""

from fastapi import APIRouter

from mlsec.serving import privacy
from mlsec.serving.http_routes import ServingDep
from mlsec.serving.privacy_schemas import (
    PrivacyStatus,
    RetentionRequest,
    RetentionResult,
    SubjectRows,
    SubjectsRequest,
)


def build_privacy_router() -> APIRouter:
    router = APIRouter(prefix="/privacy", tags=["privacy"])

    @router.get("/status", response_model=PrivacyStatus)
    async def get_privacy_status(serving: ServingDep) -> PrivacyStatus:
        """Whether input text is stored and anonymized, and how many rows (with text) the log holds since when."""
        return await privacy.get_status(serving)

    @router.post("/subjects", response_model=SubjectRows)
    async def match_subject_rows(request: SubjectsRequest, serving: ServingDep) -> SubjectRows:
        """The rows whose stored text carries any of the subjects' keyed hashes; `erase` deletes them."""
        if request.erase:
            return await privacy.delete_subject_rows(serving, request.value_hashes)
        return await privacy.get_subject_rows(serving, request.value_hashes)

    @router.post("/retention", response_model=RetentionResult)
    async def apply_retention(request: RetentionRequest, serving: ServingDep) -> RetentionResult:
        """The rows logged before `older_than`: counted on a dry run (the default), else deleted in batches."""
        if request.dry_run:
            return await privacy.get_expired(serving, request.older_than)
        return await privacy.delete_expired(serving, request.older_than)

    return router
