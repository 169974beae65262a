"""`/red-team/*`: attack a served model version with the suite, store runs made elsewhere, and read them back."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query

from mlsec.core.limits import ModelNameQuery, Offset, RowId
from mlsec.core.openapi import error_responses
from mlsec.services.analytics.dependencies import AnalyticsDep, SessionDep
from mlsec.services.analytics.models import RedTeamRun
from mlsec.services.analytics.schemas.redteam import (
    RedTeamPatterns,
    RedTeamResultsRequest,
    RedTeamRunList,
    RedTeamRunRead,
    RedTeamRunRequest,
    RedTeamSummary,
    RedTeamTrends,
)
from mlsec.services.analytics.service import redteam

router = APIRouter(prefix="/red-team", tags=["red team"])


def _announced(run: RedTeamRun, analytics: AnalyticsDep, background: BackgroundTasks) -> RedTeamRunRead:
    """The stored run; its event goes out after the response, so only once the run is committed."""
    background.add_task(redteam.announce, analytics, redteam.completed_event(run))
    return redteam.run_read(run)


@router.post("/run", status_code=201, response_model=RedTeamRunRead, responses=error_responses(404, 502, 503))
async def run_red_team(
    request: RedTeamRunRequest, session: SessionDep, analytics: AnalyticsDep, background: BackgroundTasks
) -> RedTeamRunRead:
    """Attack a served model version now and store the run: 404 when the model API does not serve it, 503
    when the model API cannot be reached. The run records the version that actually answered."""
    return _announced(await redteam.run(analytics, session, request), analytics, background)


@router.post("/results", status_code=201, response_model=RedTeamRunRead)
async def store_red_team_results(
    request: RedTeamResultsRequest, session: SessionDep, analytics: AnalyticsDep, background: BackgroundTasks
) -> RedTeamRunRead:
    """Store a report made elsewhere (`mlsec redteam`), checked to be consistent, so it counts like a run."""
    return _announced(await redteam.create_from_report(session, request), analytics, background)


@router.get("/runs", response_model=RedTeamRunList)
async def get_red_team_runs(
    session: SessionDep,
    model_name: ModelNameQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> RedTeamRunList:
    """Stored runs, newest first, with rates per technique but without the evaded prompts."""
    rows, total = await redteam.get_all(session, model_name=model_name, limit=limit, offset=offset)
    return RedTeamRunList(runs=[redteam.run_brief(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/runs/{run_id}", response_model=RedTeamRunRead)
async def get_red_team_run(run_id: RowId, session: SessionDep) -> RedTeamRunRead:
    """One run, per technique, with the prompts that evaded: what to read before the next training set."""
    return redteam.run_read(await redteam.get_or_raise(session, run_id=run_id))


@router.get("/summary", response_model=RedTeamSummary)
async def get_red_team_summary(session: SessionDep, model_name: ModelNameQuery = None) -> RedTeamSummary:
    """Where each model stands now: its latest run, rates per technique and its weakest technique."""
    return redteam.summary(await redteam.get_newest(session, model_name=model_name, per_model=1))


@router.get("/trends", response_model=RedTeamTrends)
async def get_red_team_trends(session: SessionDep, model_name: ModelNameQuery = None) -> RedTeamTrends:
    """Whether versions get better at catching attacks: runs in time order with the change from the last."""
    history = await redteam.get_newest(session, model_name=model_name, per_model=redteam.TREND_RUNS_PER_MODEL)
    return redteam.trends(history)


@router.get("/patterns", response_model=RedTeamPatterns)
async def get_red_team_patterns(session: SessionDep, model_name: ModelNameQuery = None) -> RedTeamPatterns:
    """Which techniques get through most, over the latest run of each model, with examples to learn from."""
    return redteam.patterns(await redteam.get_newest(session, model_name=model_name, per_model=1))
