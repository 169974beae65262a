"""The hub's events: accepted from the services (embedded mode) and fanned out, or listed, newest last."""

from __future__ import annotations

from mlsec.core.errors import ServiceUnavailableError
from mlsec.core.events import Event, EventHub, EventPublisher
from mlsec.services.gateway.schemas.events import EventAccepted, EventList


def create(publisher: EventPublisher, event: Event) -> EventAccepted:
    """Publish an event to every live subscriber; 503 when the publisher's queue is full."""
    if not publisher.publish(event):
        raise ServiceUnavailableError("event queue is full; retry later", details={"dropped": publisher.dropped})
    return EventAccepted(id=event.id, topic=event.topic, accepted=True)


def get_all(hub: EventHub, *, topic: str | None = None, limit: int = 100) -> EventList:
    """The most recent events the hub has seen, newest last, optionally of one topic."""
    events = hub.recent(topic=topic, limit=limit)
    return EventList(events=events, count=len(events), subscribers=hub.subscriber_count, dropped=hub.dropped)
