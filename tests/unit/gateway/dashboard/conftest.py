"""The dashboard pages' unit tests share one in-process gateway per test (every backend unreachable)."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec.core.settings import Settings
from tests.api.gateway.security_support import running_gateway


@pytest.fixture
async def gateway(settings: Settings) -> Any:
    async with running_gateway(settings) as running:
        yield running
