"""Requests and answers of `/red-team/*`: runs against a served model, uploaded reports, and their read-outs.

An uploaded report is checked as strictly as a run made here: counts that add up, rates that match them,
and bounded sizes, so every stored report can be read back, summarised and compared without surprises.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlsec.core.limits import MAX_INT32, Count32, ModelName, ModelVersion
from mlsec.ml.redteam import BASELINE, resolve_techniques

MAX_TECHNIQUES = 100
MAX_EVADED_EXAMPLES = 200
MAX_PROMPT_CHARS = 20_000
RATE_TOLERANCE = 1e-6
Source = Literal["run", "upload"]
StoredVersion = Annotated[ModelVersion, Field(max_length=32)]
"""A version as a run stores it: the one version type of mlsec.core.limits, fitting its 32-character column."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _rate_matches(rate: float, detected: int, attempts: int) -> bool:
    expected = detected / attempts if attempts else 0.0
    return math.isclose(rate, expected, rel_tol=0, abs_tol=RATE_TOLERANCE)


# --- requests ------------------------------------------------------------------------------------------


class RedTeamRunRequest(_Strict):
    """`POST /red-team/run`: which model version to attack, with which techniques, how many variants."""

    model_name: ModelName = Field(description="A model the model API serves.")
    version: ModelVersion | None = Field(None, description="A version or alias; default: champion.")
    techniques: list[str] | None = Field(
        None, min_length=1, max_length=MAX_TECHNIQUES, description="Technique names; default: every technique."
    )
    variants_per_seed: int = Field(1, ge=1, le=10, description="Attacks drawn per seed payload and technique.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="The same seed gives the same attacks.")

    @field_validator("techniques")
    @classmethod
    def _known_techniques(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            resolve_techniques(value)  # ValueError naming the known techniques, or the one given twice
        return value


class EvadedExampleIn(_Strict):
    seed_index: int = Field(ge=0)
    variant: int = Field(ge=0)
    label: str = Field(max_length=100)
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)


class TechniqueReportIn(_Strict):
    """One technique's result, as `TechniqueResult.to_dict()` writes it."""

    technique: str = Field(min_length=1, max_length=100)
    attempts: Count32
    detected: Count32
    detection_rate: float = Field(ge=0, le=1)
    evaded_total: Count32
    evaded_examples: list[EvadedExampleIn] = Field(default_factory=list, max_length=MAX_EVADED_EXAMPLES)
    vs_plain: float | None = Field(None, ge=-1, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> TechniqueReportIn:
        name = self.technique
        if self.detected > self.attempts:
            raise ValueError(f"technique {name!r}: detected ({self.detected}) exceeds attempts ({self.attempts})")
        if self.evaded_total != self.attempts - self.detected:
            raise ValueError(f"technique {name!r}: evaded_total must be attempts - detected")
        if len(self.evaded_examples) > self.evaded_total:
            raise ValueError(f"technique {name!r}: more evaded examples than evaded_total")
        if not _rate_matches(self.detection_rate, self.detected, self.attempts):
            raise ValueError(f"technique {name!r}: detection_rate must be detected / attempts")
        return self


class RedTeamReportIn(_Strict):
    """A whole report, as `RedTeamReport.to_dict()` writes it."""

    attempts: int = Field(ge=1, le=MAX_INT32)
    detected: Count32
    detection_rate: float = Field(ge=0, le=1)
    baseline_detection_rate: float | None = Field(None, ge=0, le=1)
    positive_label: str = Field("1", min_length=1, max_length=100)
    max_evaded_examples: int = Field(20, ge=0, le=MAX_EVADED_EXAMPLES)
    techniques: list[TechniqueReportIn] = Field(min_length=1, max_length=MAX_TECHNIQUES)

    @model_validator(mode="after")
    def _consistent(self) -> RedTeamReportIn:
        names = [t.technique for t in self.techniques]
        if len(set(names)) != len(names):
            raise ValueError("a technique appears more than once")
        if self.attempts != sum(t.attempts for t in self.techniques):
            raise ValueError("attempts must be the sum of the techniques' attempts")
        if self.detected != sum(t.detected for t in self.techniques):
            raise ValueError("detected must be the sum of the techniques' detected")
        if not _rate_matches(self.detection_rate, self.detected, self.attempts):
            raise ValueError("detection_rate must be detected / attempts")
        plain = next((t.detection_rate for t in self.techniques if t.technique == BASELINE), None)
        baseline = self.baseline_detection_rate
        if (plain is None) != (baseline is None) or (
            plain is not None and baseline is not None and not math.isclose(baseline, plain, abs_tol=RATE_TOLERANCE)
        ):
            raise ValueError("baseline_detection_rate must be the detection rate of 'plain' (None without it)")
        return self


class RedTeamResultsRequest(_Strict):
    """`POST /red-team/results`: a run made elsewhere (`mlsec redteam`), stored as it was reported."""

    model_name: ModelName
    model_version: StoredVersion
    report: RedTeamReportIn


# --- answers -------------------------------------------------------------------------------------------


class EvadedExampleRead(BaseModel):
    seed_index: int
    variant: int
    label: str
    prompt: str


class TechniqueRate(BaseModel):
    technique: str
    attempts: int
    detected: int
    detection_rate: float
    evaded_total: int


class TechniqueResultRead(TechniqueRate):
    vs_plain: float | None = Field(None, description="Its rate minus the rate of 'plain'; None without 'plain'.")
    evaded_examples: list[EvadedExampleRead]


class _RunBase(BaseModel):
    id: int
    model_name: str
    model_version: str = Field(description="The version that answered (runs) or the one reported (uploads).")
    source: Source
    created_at: datetime
    attempts: int
    detected: int
    detection_rate: float
    baseline_detection_rate: float | None


class RedTeamRunRead(_RunBase):
    """One stored run, per technique, with the prompts that evaded."""

    positive_label: str
    config: dict[str, Any] | None = Field(description="How a run made here was generated; None for uploads.")
    techniques: list[TechniqueResultRead]


class RedTeamRunBrief(_RunBase):
    """A stored run without its evaded prompts."""

    techniques: list[TechniqueRate]


class RedTeamRunList(BaseModel):
    runs: list[RedTeamRunBrief]
    total: int
    limit: int
    offset: int


class ModelRedTeamSummary(RedTeamRunBrief):
    weakest_technique: TechniqueRate | None = Field(description="The technique with the lowest detection rate.")


class RedTeamSummary(BaseModel):
    models: list[ModelRedTeamSummary]
    count: int


class TechniqueTrendPoint(BaseModel):
    technique: str
    detection_rate: float
    change: float | None = Field(description="Since the model's previous run; None when that run lacked it.")


class TrendPoint(BaseModel):
    run_id: int
    created_at: datetime
    model_version: str
    source: Source
    attempts: int
    detection_rate: float
    change: float | None = Field(description="Since the model's previous run; None for its first.")
    techniques: list[TechniqueTrendPoint]


class ModelTrend(BaseModel):
    model_name: str
    runs: list[TrendPoint] = Field(description="Oldest first: the newest runs of the model, at most 100.")
    change_since_first: float | None


class RedTeamTrends(BaseModel):
    models: list[ModelTrend]
    count: int


class PatternExample(BaseModel):
    model_name: str
    model_version: str
    run_id: int
    label: str
    prompt: str


class TechniquePattern(BaseModel):
    technique: str
    models: int = Field(description="How many models' latest runs tried it.")
    attempts: int
    detected: int
    evaded: int
    evasion_rate: float = Field(description="evaded / attempts, over the latest run of each model.")
    examples: list[PatternExample]


class RedTeamPatterns(BaseModel):
    runs: int = Field(description="Latest runs looked at: one per model.")
    models: list[str]
    techniques: list[TechniquePattern] = Field(description="Most evasive first.")
