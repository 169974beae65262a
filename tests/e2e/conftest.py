"""The e2e tests' own fixture; the helpers live in tests/platform_support.py, the session's platform
(`shared_platform`) in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.platform_support import Running


@pytest.fixture
def run_mlsec(tmp_path: Path) -> Iterator[type[Running]]:
    started: list[Running] = []

    class Tracked(Running):
        def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None):
            super().__init__(args, env, cwd or tmp_path)
            started.append(self)

    yield Tracked
    for run in started:  # never leave a platform behind, whatever the test did
        run.close()
