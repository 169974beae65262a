"""Running attacks against a detector and counting what it catches.

The detector is any function from a batch of texts to a batch of labels: a scikit-learn pipeline's
`predict`, a wrapper around a served model, a rule set. An attack is detected when its label is the
positive (injection) label; labels are compared as strings, so a model trained on the integers 0/1
and one trained on the strings "0"/"1" are read alike. The report keeps, per technique, the counts,
the rate and examples of the prompts that got through: the examples are what a person reads to decide
what to add to the training data next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlsec.ml.redteam.attacks import Attack

# A list of labels, or the numpy array a scikit-learn `predict` returns.
Predict = Callable[[list[str]], Sequence[Any] | np.ndarray[Any, Any]]
Progress = Callable[[int, int], None]
BASELINE = "plain"


@dataclass(frozen=True)
class EvadedAttack:
    """An attack the detector did not flag, with the label it gave instead."""

    seed_index: int
    variant: int
    prompt: str
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"seed_index": self.seed_index, "variant": self.variant, "label": self.label, "prompt": self.prompt}


@dataclass(frozen=True)
class TechniqueResult:
    """What one technique achieved: attempts, how many were detected, and the first evasions."""

    technique: str
    attempts: int
    detected: int
    evaded_total: int
    evaded: tuple[EvadedAttack, ...] = field(default_factory=tuple)

    @property
    def detection_rate(self) -> float:
        return self.detected / self.attempts if self.attempts else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "attempts": self.attempts,
            "detected": self.detected,
            "detection_rate": self.detection_rate,
            "evaded_total": self.evaded_total,
            "evaded_examples": [example.to_dict() for example in self.evaded],
        }


@dataclass(frozen=True)
class RedTeamReport:
    """Per-technique results, in the order the techniques first appear among the attacks, and totals."""

    techniques: tuple[TechniqueResult, ...]
    positive_label: str
    max_evaded_examples: int

    @property
    def attempts(self) -> int:
        return sum(result.attempts for result in self.techniques)

    @property
    def detected(self) -> int:
        return sum(result.detected for result in self.techniques)

    @property
    def detection_rate(self) -> float:
        return self.detected / self.attempts if self.attempts else 0.0

    def technique(self, name: str) -> TechniqueResult:
        """The result of technique `name`; KeyError naming the techniques in this report otherwise."""
        for result in self.techniques:
            if result.technique == name:
                return result
        raise KeyError(f"no technique {name!r} in this report; it has: {', '.join(self.technique_names)}")

    @property
    def technique_names(self) -> list[str]:
        return [result.technique for result in self.techniques]

    @property
    def baseline_rate(self) -> float | None:
        """The detection rate of the unmodified payloads (`plain`), None when they were not run."""
        return self.technique(BASELINE).detection_rate if BASELINE in self.technique_names else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only. Each technique also gets `vs_plain`: its detection rate minus the
        baseline's (negative: the technique hides attacks the plain payload would not), or None."""
        baseline = self.baseline_rate
        techniques = []
        for result in self.techniques:
            entry = result.to_dict()
            entry["vs_plain"] = None if baseline is None else result.detection_rate - baseline
            techniques.append(entry)
        return {
            "attempts": self.attempts,
            "detected": self.detected,
            "detection_rate": self.detection_rate,
            "baseline_detection_rate": baseline,
            "positive_label": self.positive_label,
            "max_evaded_examples": self.max_evaded_examples,
            "techniques": techniques,
        }


class _Tally:
    def __init__(self, technique: str, cap: int) -> None:
        self.technique, self.cap = technique, cap
        self.attempts = self.detected = self.evaded_total = 0
        self.evaded: list[EvadedAttack] = []

    def add(self, attack: Attack, label: str, positive_label: str) -> None:
        self.attempts += 1
        if label == positive_label:
            self.detected += 1
            return
        self.evaded_total += 1
        if len(self.evaded) < self.cap:
            self.evaded.append(EvadedAttack(attack.seed_index, attack.variant, attack.prompt, label))

    def result(self) -> TechniqueResult:
        return TechniqueResult(self.technique, self.attempts, self.detected, self.evaded_total, tuple(self.evaded))


def _batches(attacks: Sequence[Attack], size: int) -> Iterable[Sequence[Attack]]:
    for start in range(0, len(attacks), size):
        yield attacks[start : start + size]


def run_suite(
    predict: Predict,
    attacks: Sequence[Attack],
    *,
    positive_label: str = "1",
    batch_size: int = 64,
    max_evaded_examples: int = 20,
    progress: Progress | None = None,
) -> RedTeamReport:
    """Send the attack prompts to `predict` in batches and count the ones labelled `positive_label`.

    `progress(done, total)` is called after each batch, with the number of attacks labelled so far.
    A `predict` that answers a batch with a different number of labels (or not one label per prompt,
    such as a probability matrix) raises ValueError: the labels could not be matched to their prompts.
    Up to `max_evaded_examples` undetected prompts are kept per technique (the first ones, in attack
    order); `evaded_total` counts all of them.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(max_evaded_examples, bool) or not isinstance(max_evaded_examples, int) or max_evaded_examples < 0:
        raise ValueError(f"max_evaded_examples must be a non-negative integer, got {max_evaded_examples!r}")
    attack_list = list(attacks)
    if not attack_list:
        raise ValueError("no attacks to run")
    positive = str(positive_label)
    tallies: dict[str, _Tally] = {}
    done = 0
    for batch in _batches(attack_list, batch_size):
        labels = np.asarray(predict([attack.prompt for attack in batch]))
        if labels.ndim != 1 or labels.shape[0] != len(batch):
            shape = "x".join(str(size) for size in labels.shape) or "a scalar"
            raise ValueError(f"predict returned {shape} labels for a batch of {len(batch)} prompts")
        for attack, label in zip(batch, labels.tolist(), strict=True):
            tally = tallies.setdefault(attack.technique, _Tally(attack.technique, max_evaded_examples))
            tally.add(attack, str(label), positive)
        done += len(batch)
        if progress is not None:
            progress(done, len(attack_list))
    return RedTeamReport(tuple(tally.result() for tally in tallies.values()), positive, max_evaded_examples)
