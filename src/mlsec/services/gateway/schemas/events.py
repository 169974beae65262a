"""Response models of the event routes: an event accepted, and the hub's latest events."""

from pydantic import BaseModel

from mlsec.core.events import Event


class EventAccepted(BaseModel):
    id: str
    topic: str
    accepted: bool


class EventList(BaseModel):
    events: list[Event]
    count: int
    subscribers: int
    dropped: int
