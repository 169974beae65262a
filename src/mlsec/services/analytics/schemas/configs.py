"""How a model is monitored: drift checks, auto-retrain triggers and limits, promotion criteria.

One document per model, stored as JSON; the document named "*" holds the defaults of every model without one.
Every field is validated here, at the edge, so a stored config is always one the monitor can run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlsec.core.limits import NAME_PATTERN
from mlsec.core.strict import JsonBool, JsonFloat, JsonInt

TestName = Literal["ks", "chi2", "psi", "jensen_shannon", "wasserstein"]
Correction = Literal["benjamini-hochberg", "bonferroni", "none"]
Severity = Literal["none", "low", "medium", "high"]
Trigger = Literal["data_drift", "model_drift", "performance_drop", "manual"]
DEFAULT_MODEL = "*"
CONFIG_NAME_PATTERN = rf"^(\*|{NAME_PATTERN.removeprefix('^').removesuffix('$')})$"
"""A config's name: a model's (the one name pattern of mlsec.core.limits), or "*" for the defaults."""
SEVERITY_ORDER: dict[str, int] = {"none": 0, "low": 1, "medium": 2, "high": 3}


def _default_triggers() -> list[Trigger]:
    return ["data_drift", "model_drift", "performance_drop"]


def _default_priorities() -> dict[Trigger, int]:
    return {"performance_drop": 1, "model_drift": 2, "data_drift": 3, "manual": 0}


class _Strict(BaseModel):
    """No unknown fields, and values of their JSON type only (mlsec.core.strict): `false` is not 0, nor `0` false."""

    model_config = ConfigDict(extra="forbid")


class Thresholds(_Strict):
    """Distance thresholds: a distance at or above its threshold is drift."""

    psi: JsonFloat | None = Field(None, gt=0)
    jensen_shannon: JsonFloat | None = Field(None, gt=0, le=1)
    wasserstein: JsonFloat | None = Field(None, gt=0)

    def as_dict(self) -> dict[str, float]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class FeatureDriftConfig(_Strict):
    """Overrides for one feature."""

    tests: list[TestName] | None = Field(None, min_length=1)
    alpha: JsonFloat | None = Field(None, gt=0, lt=1)
    thresholds: Thresholds = Field(default_factory=Thresholds)


class DriftSettings(_Strict):
    """Live-traffic drift: the window, the tests and when a change is drift and how severe."""

    window_minutes: JsonFloat = Field(60.0, gt=0, le=60 * 24 * 90, description="The sliding window of live traffic.")
    min_rows: JsonInt = Field(50, ge=10, description="A window with fewer predictions is not checked.")
    max_rows: JsonInt = Field(20_000, ge=100, le=1_000_000, description="At most this many newest predictions.")
    alpha: JsonFloat = Field(0.05, gt=0, lt=1)
    correction: Correction = "benjamini-hochberg"
    tests: list[TestName] | None = Field(None, min_length=1, description="None: chosen like Evidently does.")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    drift_share: JsonFloat = Field(0.5, gt=0, le=1, description="The window drifts when this share of features do.")
    features: dict[str, FeatureDriftConfig] = Field(default_factory=dict, description="Per-feature overrides.")
    alert_min_severity: Severity = Field("low", description="Drift at or above this severity raises an alert.")


class AutoRetrainSettings(_Strict):
    """When a retrain starts by itself, and how often it may."""

    enabled: JsonBool = True
    triggers: list[Trigger] = Field(default_factory=_default_triggers)
    min_severity: Severity = Field("medium", description="Drift below this severity does not trigger a retrain.")
    min_production_rows: JsonInt = Field(
        500,
        ge=1,
        description="A drift alert triggers a retrain only when its window held at least this many production "
        "predictions (red-team, evaluation and synthetic traffic never count).",
    )
    performance_metric: Literal["accuracy", "precision", "recall", "f1"] = "f1"
    performance_threshold: JsonFloat = Field(0.8, ge=0, le=1, description="A drop below this triggers a retrain.")
    performance_window_hours: JsonFloat = Field(24.0, gt=0)
    performance_min_samples: JsonInt = Field(30, ge=1)
    cooldown_minutes: JsonFloat = Field(60.0 * 6, ge=0, description="Least time between two retrains of a model.")
    daily_limit: JsonInt = Field(3, ge=0, le=100, description="Most retrains of a model started per UTC day.")
    priorities: dict[Trigger, JsonInt] = Field(
        default_factory=_default_priorities,
        description="Lower runs first.",
    )
    auto_promote: JsonBool = Field(True, description="Evaluate the challenger a retrain registers, promote if it wins.")


class PromotionSettings(_Strict):
    """What a challenger must show before it becomes champion."""

    alpha: JsonFloat = Field(0.05, gt=0, lt=1)
    require_significance: JsonBool = Field(True, description="McNemar p < alpha, the challenger making fewer errors.")
    min_f1_gain: JsonFloat = Field(0.0, ge=0, le=1)
    max_latency_ms: JsonFloat | None = Field(None, gt=0)
    max_redteam_drop: JsonFloat | None = Field(0.0, ge=0, le=1)
    n_resamples: JsonInt = Field(2000, ge=100, le=100_000)
    evaluation_max_rows: JsonInt = Field(5000, ge=10, le=200_000)
    sla: JsonBool = Field(
        False,
        description="Opt-in: when business-metrics holds an SLA that applies to the champion, a challenger whose "
        "production figures over the SLA's window break it is not promoted; business-metrics not answering: "
        "nothing is promoted.",
    )
    sla_unmeasured: Literal["pass", "reject"] = Field(
        "pass",
        description="A challenger that served no production traffic in the SLA's window cannot be judged: pass "
        "(the evidence says it was not judged) or reject.",
    )


class MonitoringConfigBody(_Strict):
    drift: DriftSettings = Field(default_factory=DriftSettings)
    auto_retrain: AutoRetrainSettings = Field(default_factory=AutoRetrainSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)


class MonitoringConfigRead(MonitoringConfigBody):
    model_name: str
    stored: bool = Field(description="False: the defaults, nothing stored for this model yet.")


class AutoRetrainConfigUpdate(_Strict):
    """`PUT /auto-retrain/config`: a model's (or, without one, the defaults') auto-retrain and promotion."""

    model_name: str = Field(DEFAULT_MODEL, min_length=1, max_length=100, pattern=CONFIG_NAME_PATTERN)
    auto_retrain: AutoRetrainSettings | None = None
    promotion: PromotionSettings | None = None

    @model_validator(mode="after")
    def _something(self) -> AutoRetrainConfigUpdate:
        if self.auto_retrain is None and self.promotion is None:
            raise ValueError("give auto_retrain, promotion or both")
        return self
