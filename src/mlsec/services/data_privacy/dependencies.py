"""The dependencies data-privacy routes take: the running service, a database session, the caller (core's) and
the validated path and query values."""

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from mlsec.core.app import CallerDep, SessionDep
from mlsec.services.data_privacy.state import Privacy

__all__ = ["CallerDep", "Limit", "Offset", "PrivacyDep", "SessionDep", "SubjectIdPath"]

SUBJECT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"


async def get_privacy(request: Request) -> Privacy:
    privacy: Privacy = request.app.state.privacy
    return privacy


PrivacyDep = Annotated[Privacy, Depends(get_privacy)]
SubjectIdPath = Annotated[str, Path(pattern=SUBJECT_ID, description="A data subject's id (a user id).")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Most items returned.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items skipped.")]
