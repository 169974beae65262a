"""Precision, recall and F1 per entity type of a PII engine against labelled spans.

A found span counts as a hit when it has the labelled type and covers at least half of the union of the two
spans (IoU >= 0.5): "call +1 415 555 0100" and "+1 415 555 0100" agree, a phone number found inside a longer
labelled address does not. Each labelled span is matched once. Types the engine does not look for are left out.

`uncounted_inside` names, per found type, labelled types whose spans hide it: a city found inside a labelled
street address is neither right nor wrong (the set labels the whole address, and labels cities as GPE elsewhere).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from mlsec.ml.pii.findings import Finding

Span = tuple[str, int, int]  # type, start, end
MIN_IOU = 0.5


@dataclass(frozen=True)
class TypeScore:
    type: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def _iou(a: Span, b: Span) -> float:
    overlap = min(a[2], b[2]) - max(a[1], b[1])
    union = max(a[2], b[2]) - min(a[1], b[1])
    return overlap / union if overlap > 0 and union > 0 else 0.0


def _hidden(span: Span, labelled: list[Span], uncounted_inside: Mapping[str, Collection[str]]) -> bool:
    hiding = uncounted_inside.get(span[0], ())
    return any(g[0] in hiding and g[1] <= span[1] and span[2] <= g[2] for g in labelled)


def evaluate(
    scan: Callable[[str], list[Finding]],
    documents: Iterable[tuple[str, list[Span]]],
    types: Iterable[str],
    *,
    uncounted_inside: Mapping[str, Collection[str]] | None = None,
) -> dict[str, TypeScore]:
    """Per type of `types` (and "ALL"), the counts of `scan` against each document's labelled spans."""
    wanted = set(types)
    inside = uncounted_inside or {}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for text, labelled in documents:
        gold = [span for span in labelled if span[0] in wanted]
        found = [(f.type, f.start, f.end) for f in scan(text) if f.type in wanted]
        found = [span for span in found if not _hidden(span, labelled, inside)]
        unmatched = list(gold)
        for span in found:
            match = next((g for g in unmatched if g[0] == span[0] and _iou(g, span) >= MIN_IOU), None)
            if match is None:
                counts[span[0]][1] += 1
            else:
                unmatched.remove(match)
                counts[span[0]][0] += 1
        for span in unmatched:
            counts[span[0]][2] += 1
    scores = {kind: TypeScore(kind, *counts[kind]) for kind in sorted(wanted)}
    total = [sum(counts[kind][i] for kind in wanted) for i in range(3)]
    scores["ALL"] = TypeScore("ALL", *total)
    return scores
