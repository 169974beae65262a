"""`mlsec train`: upload a dataset if given, start a job, follow it with a progress bar, show the metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlsec.client import ServiceCallError, TrainingClient, platform_http_client
from mlsec.core.settings import Settings

POLL_SECONDS = 0.5
LARGE_FILE_BYTES = 50 * 1024 * 1024
FINISHED = {"succeeded", "failed", "cancelled"}


async def _upload(client: TrainingClient, path: Path, *, task: str, text_column: str, label_column: str) -> str:
    size = (await anyio.Path(path).stat()).st_size
    upload = client.upload_large_file if size > LARGE_FILE_BYTES else client.upload_data
    answer = await upload(path, task=task, text_column=text_column, label_column=label_column)
    return str(answer["dataset"]["name"])


async def _follow(client: TrainingClient, job: dict[str, Any], console: Console) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(f"{job['model_name']}: {job['step']}", total=100)
        while job["status"] not in FINISHED:
            await asyncio.sleep(POLL_SECONDS)
            job = await client.get_training_job(job["id"])
            progress.update(bar, completed=job["progress"], description=f"{job['model_name']}: {job['step']}")
    return job


def _report(job: dict[str, Any], console: Console) -> None:
    table = Table(title=f"{job['model_name']} - job {job['id']} {job['status']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in sorted(job["metrics"].items()):
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
    if job.get("model_version"):
        console.print(f"registered version {job['model_version']} as [bold]{job['alias']}[/bold]")
    if job.get("mlflow_run_url"):
        console.print(f"MLflow run: {job['mlflow_run_url']}")
    if job.get("error"):
        console.print(f"[red]error: {job['error']}[/red]")


async def run_training(
    settings: Settings,
    console: Console,
    *,
    model: str,
    dataset: Path | None,
    task: str | None,
    text_column: str,
    label_column: str,
    wait: bool,
) -> int:
    """The exit code: 0 when the job succeeded (or was queued without waiting)."""
    async with platform_http_client(settings) as http:
        client = TrainingClient("training", settings.url_for("training"), http, settings)
        fields: dict[str, Any] = {}
        try:
            if dataset is not None:
                fields["dataset"] = await _upload(
                    client,
                    dataset,
                    task=task or "text_classification",
                    text_column=text_column,
                    label_column=label_column,
                )
                console.print(f"uploaded {dataset} as dataset {fields['dataset']!r}")
            if task:
                fields["task"] = task
            job = await client.train_model(model, **fields)
            console.print(f"queued job {job['id']} for {model}")
            if not wait:
                return 0
            job = await _follow(client, job, console)
        except ServiceCallError as exc:
            console.print(f"[red]error:[/red] {exc}")
            return 2
    _report(job, console)
    return 0 if job["status"] == "succeeded" else 1
