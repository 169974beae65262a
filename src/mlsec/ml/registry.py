"""The registry's vocabulary: the aliases the platform moves and the stage names the seeds still speak.

MLflow deprecated model-version stages in favour of aliases. The platform keeps its champion and challenger
as aliases; seeds 000 and 004 still name stages, so a version's stage is derived: `Production` for the version
holding `champion`, `Staging` for the one holding `challenger`, unless a real (deprecated) stage was set on it
in MLflow, which then wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
PRODUCTION: Final = "Production"
STAGING: Final = "Staging"
ARCHIVED: Final = "Archived"
NO_STAGE: Final = "None"
STAGES: Final = (PRODUCTION, STAGING, ARCHIVED, NO_STAGE)


def stage_of(aliases: Iterable[str], current_stage: str | None = None) -> str:
    """A version's stage: its real MLflow stage when one is set, else the one its aliases imply."""
    if current_stage and current_stage != NO_STAGE:
        return current_stage
    held = set(aliases)
    if CHAMPION in held:
        return PRODUCTION
    if CHALLENGER in held:
        return STAGING
    return NO_STAGE
