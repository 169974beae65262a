"""Request and response models of the unified predictions: one text or a batch, through the model cache or
(its fallback) the model API, or a batch voted on by every served model.

A prediction is the serving service's own answer (`mlsec.serving`'s prediction routes) plus the two keys that
say who served it; whatever else a serving service adds is relayed too (`extra="allow"`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlsec.core.limits import NAME_PATTERN, VERSION_PATTERN

Label = str | int | float
ServedBy = Literal["model-cache", "model-api"]


class UnifiedPredict(BaseModel):
    """One text; its length limit is the serving service's (`MAX_TEXT_CHARS`), applied there and relayed, so a
    text gets the same answer through the gateway as directly, however the services are configured."""

    text: str = Field(min_length=1)
    model_name: str | None = Field(None, pattern=NAME_PATTERN)
    version: str | None = Field(None, pattern=VERSION_PATTERN)
    use_cache: bool = True


class UnifiedBatchPredict(BaseModel):
    texts: list[str] = Field(min_length=1, description="Each within the serving service's MAX_TEXT_CHARS.")
    model_name: str | None = Field(None, pattern=NAME_PATTERN)
    ensemble: bool = False
    model_names: list[Annotated[str, Field(pattern=NAME_PATTERN)]] | None = Field(None, min_length=1, max_length=16)
    use_cache: bool = True


class ItemPrediction(BaseModel):
    """One text's answer in a batch."""

    model_config = ConfigDict(extra="allow")

    label: Label
    score: float | None
    probabilities: dict[str, float] | None


class UnifiedPrediction(BaseModel):
    """`POST /predict`: the serving service's answer, and which service served it."""

    model_config = ConfigDict(extra="allow")

    label: Label
    score: float | None
    probabilities: dict[str, float] | None
    model_name: str
    model_version: str
    threshold: float | None
    latency_ms: float
    served_by: ServedBy
    fallback: bool = Field(description="True when the model cache was asked first and the model API answered.")


class UnifiedBatchPrediction(BaseModel):
    """`POST /predict/batch` of one model: the serving service's answer, and which service served it."""

    model_config = ConfigDict(extra="allow")

    predictions: list[ItemPrediction]
    count: int
    model_name: str
    model_version: str
    threshold: float | None
    latency_ms: float
    served_by: ServedBy
    fallback: bool = Field(description="True when the model cache was asked first and the model API answered.")


class EnsembleVote(BaseModel):
    """One text's ensemble answer: the majority label (a tie flags the input), the mean score, each vote."""

    label: Label
    score: float | None
    votes: dict[str, Label] = Field(description="Model name -> the label it gave.")


class EnsembleMember(BaseModel):
    """A model that voted, and who served its answers."""

    model_name: str
    model_version: str
    served_by: ServedBy


class EnsemblePrediction(BaseModel):
    """`POST /predict/batch` with `ensemble`: every served model (or `model_names`) voted."""

    predictions: list[EnsembleVote]
    count: int
    ensemble: Literal[True]
    models: list[EnsembleMember]
