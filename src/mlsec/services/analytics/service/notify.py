"""Alert notifications: an event on the platform's pub/sub (the gateway's WebSocket topics) and, when SMTP is
configured, an e-mail.

E-mail goes out with the standard library's SMTP client in a worker thread (STARTTLS and login when set), so a
slow mail server never stalls the event loop; a failure is logged and reported in the alert's
`notifications`, never raised: an alert is stored whether or not it could be sent.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any

import anyio

from mlsec.core.app import ServiceContext
from mlsec.services.analytics.schemas.configs import SEVERITY_ORDER
from mlsec.services.analytics.settings import AnalyticsSettings

logger = logging.getLogger("mlsec.analytics.notify")


class Notifier:
    """Sends an alert to every configured channel and says what happened on each."""

    def __init__(self, ctx: ServiceContext, settings: AnalyticsSettings):
        self.ctx = ctx
        self.settings = settings

    @property
    def email_enabled(self) -> bool:
        return bool(self.settings.smtp_host and self.settings.alert_email_to)

    async def alert(
        self, topic: str, type_: str, payload: dict[str, Any], *, subject: str, body: str
    ) -> dict[str, str]:
        """Publish the event; e-mail it when configured and severe enough. Returns channel -> outcome."""
        outcomes = {"event": "sent" if self.ctx.publish(topic, type_, payload) else "dropped"}
        severity = str(payload.get("severity", "none"))
        if not self.email_enabled:
            outcomes["email"] = "off"
        elif SEVERITY_ORDER.get(severity, 0) < SEVERITY_ORDER[self.settings.alert_email_min_severity]:
            outcomes["email"] = f"below {self.settings.alert_email_min_severity}"
        else:
            outcomes["email"] = await self.send_email(subject, body)
        return outcomes

    async def send_email(self, subject: str, body: str) -> str:
        """Send one e-mail to the configured recipients: "sent", or "failed: <error type>"."""
        message = EmailMessage()
        message["From"] = self.settings.alert_email_from
        message["To"] = ", ".join(self.settings.alert_email_to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            await anyio.to_thread.run_sync(self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("analytics.email.failed", extra={"error_type": type(exc).__name__})
            return f"failed: {type(exc).__name__}"
        logger.info("analytics.email.sent", extra={"recipients": len(self.settings.alert_email_to)})
        return "sent"

    def _deliver(self, message: EmailMessage) -> None:
        settings = self.settings
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
