"""Alert e-mail through a real local SMTP server (aiosmtpd), and what the notifier reports per channel."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mlsec.services.analytics.service.notify import Notifier
from mlsec.services.analytics.settings import AnalyticsSettings
from tests.servers import free_port

pytestmark = pytest.mark.anyio


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd names the hook
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class _Context:
    """The part of a service context the notifier uses: publishing an event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.spec = SimpleNamespace(name="analytics")

    def publish(self, topic: str, type_: str, payload: dict[str, Any]) -> bool:
        self.events.append((topic, type_, payload))
        return True


def _notifier(port: int | None, **overrides: Any) -> tuple[Notifier, _Context]:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1" if port else None,
        "smtp_port": port or 25,
        "smtp_starttls": False,
        "alert_email_to": ["ops@example.org", "ml@example.org"],
    }
    values.update(overrides)
    context = _Context()
    return Notifier(context, AnalyticsSettings.model_validate(values)), context  # type: ignore[arg-type]


async def test_an_alert_is_published_and_e_mailed(smtp: tuple[_Inbox, int]) -> None:
    inbox, port = smtp
    notifier, context = _notifier(port)
    outcome = await notifier.alert(
        "drift", "drift.alert", {"severity": "high", "model_name": "m"}, subject="[mlsec] drift", body="details"
    )
    assert outcome == {"event": "sent", "email": "sent"}
    assert context.events == [("drift", "drift.alert", {"severity": "high", "model_name": "m"})]
    recipients, message = inbox.messages[0]
    assert recipients == ["ops@example.org", "ml@example.org"]
    assert message["Subject"] == "[mlsec] drift"
    assert message.get_payload().strip() == "details"


async def test_below_the_minimum_severity_no_mail_is_sent(smtp: tuple[_Inbox, int]) -> None:
    inbox, port = smtp
    notifier, _ = _notifier(port, alert_email_min_severity="high")
    outcome = await notifier.alert("drift", "drift.alert", {"severity": "medium"}, subject="s", body="b")
    assert outcome["email"] == "below high"
    assert inbox.messages == []


async def test_without_smtp_e_mail_is_off_and_a_dead_server_is_reported_not_raised() -> None:
    off, _ = _notifier(None)
    assert (await off.alert("drift", "drift.alert", {"severity": "high"}, subject="s", body="b"))["email"] == "off"
    dead, _ = _notifier(free_port(), smtp_timeout_seconds=2)
    outcome = await dead.alert("drift", "drift.alert", {"severity": "high"}, subject="s", body="b")
    assert outcome["email"].startswith("failed: ")
