"""What the analytics service knows that the business figures count: labelled feedback (confusion counts per
model version), retrains, promotions and drift alerts, read through the SDK.

- Feedback: `/performance/metrics` over its longest window gives every model version's cumulative confusion
  matrix; the growth since the previous round (cursor `feedback`) is counted in the round's minute.
  Positive means a threat: a label not in the benign labels.
- Drift alerts and promotions (append-only, newest first): counted once each, past the highest id seen.
- Retrains: counted when they succeed, in the minute they finished; the cursor keeps the lowest id still
  queued or running, and the ids counted above it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from mlsec.services.business_metrics.service import cursors
from mlsec.services.business_metrics.service.rollups import add_event, add_feedback
from mlsec.services.business_metrics.state import BusinessMetrics

PAGE = 500
MAX_PAGES = 20
FEEDBACK_WINDOW_HOURS = 24 * 90
FINAL_RETRAIN = frozenset({"succeeded", "failed", "skipped"})
Page = Callable[[int, int], Awaitable[list[dict[str, Any]]]]


def confusion_counts(labels: list[str], matrix: list[list[int]], benign: frozenset[str]) -> dict[str, int]:
    """tp, fp, tn, fn of a confusion matrix (rows: true label, columns: prediction), positive = a threat."""
    counts = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for true_label, row in zip(labels, matrix, strict=True):
        for predicted, count in zip(labels, row, strict=True):
            true_threat, predicted_threat = true_label not in benign, predicted not in benign
            key = ("t" if true_threat == predicted_threat else "f") + ("p" if predicted_threat else "n")
            counts[key] += int(count)
    return counts


def _cumulative(performance: dict[str, Any], benign: frozenset[str]) -> dict[str, dict[str, dict[str, int]]]:
    """model -> version -> confusion counts over the whole window."""
    totals: dict[str, dict[str, dict[str, int]]] = {}
    for model in performance.get("models", []):
        for version in model.get("versions", []):
            confusion = version.get("metrics", {}).get("confusion")
            if confusion:
                counts = confusion_counts(confusion["labels"], confusion["matrix"], benign)
                totals.setdefault(str(model["model_name"]), {})[str(version["model_version"])] = counts
    return totals


async def collect_feedback(business: BusinessMetrics, at: datetime) -> list[str]:
    """Count the feedback that arrived since the previous round, in the round's minute; the models with feedback."""
    performance = await business.sdk.analytics.get_performance_metrics(window_hours=FEEDBACK_WINDOW_HOURS)
    totals = _cumulative(performance, business.settings.benign_labels)
    added = 0
    async with business.ctx.db.session() as session:
        before: dict[str, dict[str, dict[str, int]]] = await cursors.get(session, "feedback") or {}
        for model_name, versions in totals.items():
            for version, counts in versions.items():
                previous = before.get(model_name, {}).get(version, {})
                grown = {key: value - previous.get(key, 0) for key, value in counts.items()}
                if any(value < 0 for value in grown.values()):
                    continue  # feedback left the window: a new base, nothing counted
                if any(grown.values()):
                    await add_feedback(session, at, model_name, version, **grown)
                    added += sum(grown.values())
        await cursors.update(session, "feedback", totals)
    business.source("feedback").records = added
    return sorted(totals)


async def _newest_first(page: Page, stop_below: int) -> AsyncIterator[dict[str, Any]]:
    """Rows of a newest-first list until an id below `stop_below`."""
    for number in range(MAX_PAGES):
        rows = await page(PAGE, number * PAGE)
        for row in rows:
            if int(row["id"]) < stop_below:
                return
            yield row
        if len(rows) < PAGE:
            return


async def _count_new(
    business: BusinessMetrics, source: str, page: Page, kind: str, *, keep: Callable[[dict[str, Any]], bool]
) -> int:
    """Count the rows of an append-only list past the highest id counted before."""
    async with business.ctx.db.session() as session:
        last = int(await cursors.get(session, source) or 0)
    rows = [row async for row in _newest_first(page, last + 1)]
    async with business.ctx.db.session() as session:
        counted = 0
        for row in rows:
            if keep(row):
                at = datetime.fromisoformat(row["created_at"])
                await add_event(session, at, kind, str(row.get("model_name") or "*"))
                counted += 1
        await cursors.update(session, source, max([last, *(int(row["id"]) for row in rows)]))
    return counted


async def collect_drift_alerts(business: BusinessMetrics) -> int:
    async def page(limit: int, offset: int) -> list[dict[str, Any]]:
        answer = await business.sdk.analytics.get_drift_alerts(limit=limit, offset=offset)
        return list(answer.get("alerts", []))

    return await _count_new(business, "drift_alerts", page, "drift_alert", keep=lambda row: True)


async def collect_promotions(business: BusinessMetrics, model_name: str) -> int:
    async def page(limit: int, offset: int) -> list[dict[str, Any]]:
        answer = await business.sdk.analytics.get_promotion_ledger(model_name, limit=limit, offset=offset)
        return list(answer.get("records", []))

    return await _count_new(
        business, f"promotions:{model_name}", page, "promotion", keep=lambda row: row.get("action") == "promoted"
    )


async def collect_retrains(business: BusinessMetrics) -> int:
    """Count retrains that succeeded since the previous round (in the minute each finished)."""
    source = "retrains"
    async with business.ctx.db.session() as session:
        cursor = await cursors.get(session, source) or {"from_id": 0, "counted": []}
    start, counted = int(cursor["from_id"]), set(cursor["counted"])

    async def page(limit: int, offset: int) -> list[dict[str, Any]]:
        answer = await business.sdk.analytics.get_retrain_history(limit=limit, offset=offset)
        return list(answer.get("requests", []))

    rows = [row async for row in _newest_first(page, start)]
    new = [r for r in rows if r.get("status") == "succeeded" and int(r["id"]) not in counted]
    pending = [int(r["id"]) for r in rows if r.get("status") not in FINAL_RETRAIN]
    top = max((int(r["id"]) for r in rows), default=start - 1)
    from_id = min(pending) if pending else top + 1
    async with business.ctx.db.session() as session:
        for row in new:
            at = datetime.fromisoformat(row.get("finished_at") or row["created_at"])
            await add_event(session, at, "retrain", str(row["model_name"]))
        kept = sorted(i for i in counted | {int(r["id"]) for r in new} if i >= from_id)
        await cursors.update(session, source, {"from_id": from_id, "counted": kept})
    return len(new)
