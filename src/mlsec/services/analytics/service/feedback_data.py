"""Labelled feedback as data: the part retraining learns from and the held-out part promotion is judged on.

A feedback text belongs to the held-out part when the first byte of its SHA-256 falls in the lowest 30%:
deterministic (the same text is always on the same side, whoever asks and whenever), so a challenger that
learned from feedback is never evaluated on the texts it learned from. The side is stored with the
feedback when it is recorded (`Feedback.holdout`), so readers select it in SQL, and the production-data
export leaves the held-out part out unless asked.
"""

from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.services.analytics.models import Feedback

HOLDOUT_SHARE = 0.3
_HOLDOUT_BELOW = int(256 * HOLDOUT_SHARE)


def is_holdout(text: str) -> bool:
    """Whether a feedback text is held out (see the module docstring); migration analytics_0003 applies the same
    rule to feedback recorded before the side was stored."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] < _HOLDOUT_BELOW


async def get_labelled_texts(
    session: AsyncSession, *, model_name: str, holdout: bool, limit: int
) -> tuple[list[str], list[str]]:
    """(texts, true labels) of a model's feedback on one side of the split, newest first, one per text."""
    rows = await session.execute(
        select(Feedback.text, Feedback.true_label)
        .where(Feedback.model_name == model_name, Feedback.text.is_not(None), Feedback.holdout.is_(holdout))
        .order_by(Feedback.id.desc())
    )
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    for text, label in rows.all():
        if text is None or text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(label)
        if len(texts) >= limit:
            break
    return texts, labels


def as_csv(texts: list[str], labels: list[str]) -> bytes:
    """A training dataset file: columns text and label."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label"])
    writer.writerows(zip(texts, labels, strict=True))
    return buffer.getvalue().encode("utf-8")
