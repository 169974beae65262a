"""The platform's actions that happen elsewhere, written to the audit log as their events arrive: admin actions
at the gateway (keys, users), training jobs, promotions. Privacy actions of this service are written in the same
transaction as the action itself (they are never lost); these arrive through the event stream, so an event
published while this service is down is not in the log (docs/data-privacy.md says so)."""

from __future__ import annotations

from mlsec.core.events import Event
from mlsec.services.data_privacy.service import audit
from mlsec.services.data_privacy.state import Privacy

TOPICS = frozenset({"admin", "training", "promotions"})
AUDITED_TRAINING = frozenset({"job.queued", "job.result", "job.error", "job.cancelled"})
_TARGET_KEYS = ("job_id", "model_name", "key_id", "username", "subject_id")


def _audited(event: Event) -> bool:
    if event.topic == "training":
        return event.type in AUDITED_TRAINING
    return True


async def record(privacy: Privacy, event: Event) -> None:
    """One event as one audit entry: the actor it names (else its source service), its type, its payload."""
    if not _audited(event):
        return
    payload = dict(event.payload)
    actor = str(payload.get("actor") or payload.get("by") or event.source)[:100]
    target = next((str(payload[k])[:200] for k in _TARGET_KEYS if payload.get(k) is not None), None)
    async with privacy.ctx.db.session() as session:
        await audit.create(
            session,
            actor=actor,
            action=f"{event.topic}.{event.type}"[:64],
            target=target,
            details={"source": event.source, "payload": payload},
        )
