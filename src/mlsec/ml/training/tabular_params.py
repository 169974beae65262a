"""The hyper-parameters of tabular training, validated when built from what a user sent.

Apart from the training code because the training service parses them when a job is submitted, long
before any model is fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from mlsec.ml.params import parse_params


@dataclass(frozen=True)
class TabularParams:
    """Hyper-parameters of `train_tabular`. n_estimators is the number of boosting iterations for
    gradient boosting and of trees for a random forest; learning_rate applies to gradient boosting."""

    model: Literal["random_forest", "gradient_boosting", "linear"] = "gradient_boosting"
    n_estimators: int = 200
    max_depth: int | None = None
    learning_rate: float = 0.1
    seed: int = 42

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.model not in ("random_forest", "gradient_boosting", "linear"):
            problems.append("model must be 'random_forest', 'gradient_boosting' or 'linear'")
        if self.n_estimators < 1:
            problems.append("n_estimators must be at least 1")
        if self.max_depth is not None and self.max_depth < 1:
            problems.append("max_depth must be at least 1 or null")
        if not self.learning_rate > 0:
            problems.append("learning_rate must be positive")
        if self.seed < 0:
            problems.append("seed must not be negative")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TabularParams:
        """Parse user-supplied parameters; unknown keys and wrong types raise ValueError naming them."""
        return parse_params(cls, values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
