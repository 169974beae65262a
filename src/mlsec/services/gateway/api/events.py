"""The gateway's event routes: services post their events here (embedded mode); anyone may read the latest."""

from typing import Annotated

from fastapi import APIRouter, Query

from mlsec.core.app import ContextDep
from mlsec.core.events import Event
from mlsec.core.openapi import error_responses
from mlsec.services.gateway.schemas.events import EventAccepted, EventList
from mlsec.services.gateway.service import events

router = APIRouter(tags=["events"])


@router.post("/events", status_code=202, response_model=EventAccepted, responses=error_responses(503))
async def post_event(event: Event, ctx: ContextDep) -> EventAccepted:
    """Accept an event from a service and fan it out to every live subscriber."""
    return events.create(ctx.events, event)


@router.get("/events", response_model=EventList)
async def get_events(
    ctx: ContextDep,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventList:
    """The most recent events the hub has seen, newest last, optionally of one topic."""
    hub = ctx.hub
    assert hub is not None, "the gateway always runs with a hub"
    return events.get_all(hub, topic=topic, limit=limit)
