"""Labelled production texts as a file a training dataset upload takes: columns `text` and `label` (the true
label), with `model_version` and `created_at` for provenance.

Only feedback that carries a text is exported (feedback without one cannot train a text model), and by default
only the training part of it: the held-out part (see feedback_data) is what promotions are judged on, and a
model trained on it would be judged on texts it learned from. `part=holdout` or `part=all` asks for the rest.
The file is
streamed: rows are read in keyset pages (`(created_at, id) > last ORDER BY created_at, id LIMIT n`), each page in
its own short session, and encoded page by page, so a million rows never sit in memory at once and no transaction
stays open while a slow client downloads. The rows that existed when the export started are the ones exported (ids
up to the largest then), oldest first.

The CSV is also a file people open in a spreadsheet: a text that starts like a formula (`=`, `+`, `-`, `@`, tab,
carriage return) is written with a leading `'` so that it is shown, never run (mlsec.core.spreadsheet). JSON lines
keep every text exactly: the format to retrain on when texts may start so.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from mlsec.core.database import Database
from mlsec.core.errors import InvalidInputError
from mlsec.core.limits import as_utc
from mlsec.core.spreadsheet import safe_row
from mlsec.services.analytics.errors import NothingToExportError
from mlsec.services.analytics.models import Feedback
from mlsec.services.analytics.schemas.performance import ExportFormat, ExportPart
from mlsec.services.analytics.service.performance import feedback_time

COLUMNS = ("text", "label", "model_version", "created_at")
PAGE_ROWS = 1_000  # texts are up to 100,000 characters: a page is at most ~100 MB, usually far less
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class ExportPlan:
    """What one export sends: the filters, and the rows as counted when it started."""

    model_name: str
    since: datetime | None
    until: datetime | None
    fmt: ExportFormat
    rows: int
    last_id: int
    part: ExportPart = "training"

    @property
    def filename(self) -> str:
        model = _UNSAFE_FILENAME.sub("_", self.model_name)
        return f"{model}-production-{datetime.now(UTC):%Y-%m-%d}.{self.fmt}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]

    def filters(self) -> list[Any]:
        """The rows of this export: the model's, with a text, placed by the time basis in [since, until)."""
        where: list[Any] = [Feedback.model_name == self.model_name, Feedback.text.is_not(None), Feedback.text != ""]
        if self.since is not None:
            where.append(feedback_time() >= self.since)
        if self.until is not None:
            where.append(feedback_time() < self.until)
        if self.part != "all":
            where.append(Feedback.holdout.is_(self.part == "holdout"))
        return where


async def plan(
    session: AsyncSession,
    *,
    model_name: str,
    since: datetime | None,
    until: datetime | None,
    fmt: ExportFormat,
    part: ExportPart = "training",
) -> ExportPlan:
    """Check the range and that there is something to send (404 otherwise), before any byte is streamed."""
    since, until = (as_utc(since) if since else None), (as_utc(until) if until else None)
    if since is not None and until is not None and since >= until:
        raise InvalidInputError("since must be before until", details={"since": str(since), "until": str(until)})
    draft = ExportPlan(model_name=model_name, since=since, until=until, fmt=fmt, rows=0, last_id=0, part=part)
    rows, last_id = (await session.execute(select(func.count(), func.max(Feedback.id)).where(*draft.filters()))).one()
    if not rows:
        raise NothingToExportError(model_name)
    return replace(draft, rows=int(rows), last_id=int(last_id))


def encode(rows: Sequence[Sequence[Any]], fmt: ExportFormat) -> bytes:
    """Rows of (text, label, model_version, created_at) as CSV records (the csv module quotes commas, quotes and
    newlines; a text a spreadsheet would run as a formula gets a leading `'`, see mlsec.core.spreadsheet) or
    JSON lines (exact)."""
    if fmt == "jsonl":
        lines = (json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False) + "\n" for row in rows)
        return "".join(lines).encode()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(safe_row(row) for row in rows)
    return buffer.getvalue().encode()


async def stream(db: Database, export: ExportPlan, *, page_rows: int = PAGE_ROWS) -> AsyncIterator[bytes]:
    """The file, page by page; the CSV header first. Pages follow the (model_name, created_at) index, with the
    id breaking ties, so each page is an index range scan however far into the export it is."""
    if export.fmt == "csv":
        yield encode([COLUMNS], "csv")
    key = tuple_(Feedback.created_at, Feedback.id)
    columns = (Feedback.created_at, Feedback.id, Feedback.text, Feedback.true_label, Feedback.model_version)
    after: tuple[datetime, int] | None = None
    while True:
        statement = select(*columns).where(*export.filters(), Feedback.id <= export.last_id)
        if after is not None:
            statement = statement.where(key > tuple_(*after))
        async with db.session() as session:
            page = (await session.execute(statement.order_by(*key).limit(page_rows))).all()
        if not page:
            return
        after = (page[-1][0], page[-1][1])
        yield encode(
            [(text, label, version, as_utc(at).isoformat()) for at, _, text, label, version in page], export.fmt
        )
