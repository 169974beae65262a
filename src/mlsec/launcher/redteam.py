"""`mlsec redteam`: attack a served model with the red-team suite from here, show what it misses per
technique, and store the report in analytics.

The attacks are generated locally and labelled by the model API through the SDK's `BatchClassifier` (the
version pinned after the first batch, batches within the model API's limit), as `POST /red-team/run` does, so
a report made here reads like one made there. Analytics being down costs only the storing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlsec.client import MainAPIClient, ServiceCallError
from mlsec.client.batching import BatchClassifier, ClassifyError
from mlsec.core.settings import Settings
from mlsec.ml.redteam import SEED_PROMPTS, Attack, RedTeamReport, generate_attacks, run_suite

BATCH_SIZE = 64


def _table(report: RedTeamReport, title: str) -> Table:
    table = Table(title=title)
    for column in ("technique", "attempts", "detected", "rate", "evaded", "vs plain"):
        table.add_column(column, justify="left" if column == "technique" else "right")
    baseline = report.baseline_rate
    for result in sorted(report.techniques, key=lambda r: r.detection_rate):
        vs_plain = "-" if baseline is None else f"{100 * (result.detection_rate - baseline):+.0f} pts"
        colour = "red" if result.detection_rate < 0.5 else "green"
        table.add_row(
            result.technique,
            str(result.attempts),
            str(result.detected),
            f"[{colour}]{100 * result.detection_rate:.1f}%[/{colour}]",
            str(result.evaded_total),
            vs_plain,
        )
    table.add_row("all", str(report.attempts), str(report.detected), f"{100 * report.detection_rate:.1f}%", "", "")
    return table


async def _attack(classifier: BatchClassifier, attacks: Sequence[Attack], err_console: Console) -> RedTeamReport:
    """The report, with a progress bar over the batches on stderr. Raises ClassifyError."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        bar = progress.add_task(f"attacking {classifier.model_name}", total=len(attacks))
        labels = await classifier.labels(
            [a.prompt for a in attacks], lambda done, _total: progress.update(bar, completed=done)
        )
    return run_suite(lambda _prompts: labels, attacks, batch_size=len(attacks))


async def _store(sdk: MainAPIClient, report: RedTeamReport, classifier: BatchClassifier, err: Console) -> int | None:
    """The stored run's id; None, with a warning, when analytics cannot take it."""
    assert classifier.answered_version is not None
    try:
        stored = await sdk.analytics.store_red_team_results(
            classifier.model_name, classifier.answered_version, report.to_dict()
        )
    except ServiceCallError as exc:
        err.print(f"[yellow]warning:[/yellow] the report was not stored in analytics: {exc}", soft_wrap=True)
        return None
    return int(stored["id"])


async def run_redteam(
    settings: Settings,
    console: Console,
    err_console: Console,
    *,
    model: str,
    version: str | None,
    techniques: Sequence[str] | None,
    variants: int,
    seed: int,
    as_json: bool,
    store: bool,
) -> int:
    """The exit code: 0 with a report (stored or not), 2 when the model cannot be attacked."""
    try:
        attacks = generate_attacks(SEED_PROMPTS, techniques or None, variants_per_seed=variants, seed=seed)
    except ValueError as exc:  # an unknown technique, or one given twice
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    async with MainAPIClient(settings) as sdk:
        classifier = BatchClassifier(sdk.model_api, model, version, BATCH_SIZE, traffic_class="redteam")
        try:
            report = await _attack(classifier, attacks, err_console)
        except ClassifyError as exc:  # the model is not served, or the model API is down or refused
            err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            return 2
        run_id = await _store(sdk, report, classifier, err_console) if store else None
    _show(console, report, model=model, version=classifier.answered_version, run_id=run_id, as_json=as_json)
    return 0


def _show(
    console: Console, report: RedTeamReport, *, model: str, version: str | None, run_id: int | None, as_json: bool
) -> None:
    if as_json:  # stdout holds the JSON alone: progress and warnings went to stderr
        document: dict[str, Any] = {"model_name": model, "model_version": version, "run_id": run_id}
        console.out(json.dumps({**document, "report": report.to_dict()}), highlight=False)
        return
    console.print(_table(report, f"red team: {model} version {version}"))
    weakest = min(report.techniques, key=lambda r: r.detection_rate)
    console.print(f"detected {report.detected} of {report.attempts} attacks; weakest: {weakest.technique}")
    if run_id is not None:
        console.print(f"stored as red-team run {run_id} in analytics")
