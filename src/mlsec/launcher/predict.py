"""`mlsec predict`: one text, or a file of texts (one per line) with a progress bar; a table or JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from mlsec.client import ModelAPIClient, ServiceCallError, platform_http_client
from mlsec.core.settings import Settings
from mlsec.core.traffic import PRODUCTION, TrafficClass

CHUNK = 256


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in ("text", "label", "score", "model"):
        table.add_column(column, overflow="fold" if column == "text" else "ellipsis")
    for row in rows:
        text = row["text"] if len(row["text"]) <= 80 else row["text"][:77] + "..."
        score = "-" if row["score"] is None else f"{row['score']:.4f}"
        table.add_row(text, str(row["label"]), score, f"{row['model_name']} v{row['model_version']}")
    return table


async def _predict_file(
    client: ModelAPIClient,
    path: Path,
    console: Console,
    *,
    model_name: str | None,
    version: str | None,
    traffic_class: TrafficClass,
) -> list[dict[str, Any]]:
    content = await anyio.Path(path).read_text(encoding="utf-8")
    texts = [line for line in content.splitlines() if line.strip()]
    rows: list[dict[str, Any]] = []
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(f"predicting {len(texts)} texts", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            answer = await client.predict_batch(
                chunk, model_name=model_name, version=version, traffic_class=traffic_class
            )
            rows.extend(
                {**p, "text": t, "model_name": answer["model_name"], "model_version": answer["model_version"]}
                for t, p in zip(chunk, answer["predictions"], strict=True)
            )
            progress.advance(bar, len(chunk))
    return rows


async def run_predict(
    settings: Settings,
    console: Console,
    *,
    text: str | None,
    file: Path | None,
    model: str | None,
    version: str | None,
    traffic_class: TrafficClass = PRODUCTION,
    as_json: bool,
) -> int:
    """The exit code: 0 on success, 2 when the model API refused or could not be reached."""
    async with platform_http_client(settings) as http:
        client = ModelAPIClient("model-api", settings.url_for("model-api"), http, settings)
        try:
            if file is not None:
                rows = await _predict_file(
                    client, file, console, model_name=model, version=version, traffic_class=traffic_class
                )
            else:
                assert text is not None
                answer = await client.predict(text, model_name=model, version=version, traffic_class=traffic_class)
                rows = [{**answer, "text": text}]
        except ServiceCallError as exc:
            console.print(f"[red]error:[/red] {exc}")
            return 2
    if as_json:
        for row in rows:  # JSON lines: one object per line, nothing added
            console.out(json.dumps(row), highlight=False)
    else:
        console.print(_table(rows))
    return 0
