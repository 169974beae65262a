"""What the running tracing service holds: the ingest backlog and its writer, and the retention schedule."""

from __future__ import annotations

from dataclasses import dataclass

from mlsec.core.app import ServiceContext
from mlsec.core.background import Periodic
from mlsec.services.tracing.service.ingest import Ingester
from mlsec.services.tracing.service.redaction import Redactor
from mlsec.services.tracing.settings import TracingSettings


@dataclass
class Tracing:
    """Built in the lifespan; routes reach it through `TracingDep`."""

    ctx: ServiceContext
    settings: TracingSettings
    ingester: Ingester
    retention: Periodic

    def redactor(self) -> Redactor:
        """A redactor with this deployment's limits (one per request: it counts what it dropped)."""
        return Redactor(
            max_attributes=self.settings.max_attributes, max_value_length=self.settings.max_attribute_value_length
        )

    def start(self) -> None:
        self.ingester.start()
        self.retention.start()

    async def close(self) -> None:
        await self.retention.stop()
        await self.ingester.close()
