"""Ensemble voting for `POST /predict/batch` with `ensemble`: every served model's answers combined.

Per text, the label most models gave wins; a tie that includes the attack label (`1`) is an attack, since a
missed attack costs more than a false alarm. The score is the mean of the models' scores; each model's vote
is kept in the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from mlsec.services.gateway.schemas.predictions import (
    EnsembleMember,
    EnsemblePrediction,
    EnsembleVote,
    Label,
    UnifiedBatchPrediction,
)


def combine_votes(
    texts: Sequence[str], names: Sequence[str], answers: Sequence[UnifiedBatchPrediction]
) -> EnsemblePrediction:
    """One ensemble answer from each model's answer to the same texts (`names[i]` answered `answers[i]`)."""
    predictions = []
    for index in range(len(texts)):
        votes = {name: answer.predictions[index] for name, answer in zip(names, answers, strict=True)}
        labels = Counter(str(vote.label) for vote in votes.values())
        ranked = labels.most_common()
        top = [label for label, times in ranked if times == ranked[0][1]]
        label = "1" if len(top) > 1 and "1" in top else top[0]
        scores = [float(vote.score) for vote in votes.values() if vote.score is not None]
        predictions.append(
            EnsembleVote(
                label=_as_label(label),
                score=sum(scores) / len(scores) if scores else None,
                votes={name: vote.label for name, vote in votes.items()},
            )
        )
    return EnsemblePrediction(
        predictions=predictions,
        count=len(predictions),
        ensemble=True,
        models=[
            EnsembleMember(model_name=answer.model_name, model_version=answer.model_version, served_by=answer.served_by)
            for answer in answers
        ],
    )


def _as_label(label: str) -> Label:
    return int(label) if label.lstrip("-").isdigit() else label
