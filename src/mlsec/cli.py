"""The `mlsec` command: up, serve, status, config and db."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from mlsec.client import ServiceCallError, ServiceClient, platform_http_client
from mlsec.core.auth import Role
from mlsec.core.services import SERVICES, ServiceSpec, get_spec
from mlsec.core.settings import ConfigurationError, Settings, effective_settings, load_settings
from mlsec.core.traffic import PRODUCTION, TrafficClass

app = typer.Typer(help="mlsec: the ML Security Platform.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Service databases and their migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
auth_app = typer.Typer(help="API keys of the gateway.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
T = TypeVar("T")


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, no traceback."""
    err_console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        fail(str(exc))


def _spec(name: str) -> ServiceSpec:
    try:
        return get_spec(name)
    except KeyError as exc:
        fail(str(exc.args[0]))


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(factory())
    except ConfigurationError as exc:
        fail(str(exc))


@app.command()
def up() -> None:
    """Start MLflow and every service, wait until all are ready, stream their logs; Ctrl-C stops all."""
    from mlsec.launcher.home import prepare_home
    from mlsec.launcher.supervisor import Supervisor

    settings = _settings()
    prepare_home(settings)
    code = _run(lambda: Supervisor(settings).run())
    raise typer.Exit(code)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="Service name, e.g. model-api.")],
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Override the service's port.")] = None,
    host: Annotated[str | None, typer.Option(help="Override the bind address (MLSEC_HOST).")] = None,
    reload: Annotated[bool, typer.Option("--reload", help="Restart when the source changes (development).")] = False,
    show_config: Annotated[
        bool, typer.Option("--config", help="Print the effective configuration (secrets masked) and exit.")
    ] = False,
) -> None:
    """Run one service in the foreground (how a distributed deployment runs them)."""
    from mlsec.launcher.serve import describe
    from mlsec.launcher.serve import serve as serve_service

    settings, spec = _settings(), _spec(service)
    if host is not None:
        settings = settings.model_copy(update={"host": host})
    try:
        if show_config:
            console.print_json(json.dumps(describe(spec, settings, port=port)))
            return
        serve_service(spec, settings, port=port, reload=reload)
    except ConfigurationError as exc:
        fail(str(exc))


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show every service's health, the start-up work it still has pending and, under `mlsec up`, its restarts;
    exits 1 when any is down."""
    from mlsec.launcher.state_file import read_state

    settings = _settings()
    rows = _run(lambda: _collect_status(settings))
    processes = read_state(settings)  # what `mlsec up` knows: restarts, a process it gave up on
    for row in rows:
        if (process := processes.get(row["service"])) is not None:
            row["process"] = {key: process.get(key) for key in ("state", "restarts", "last_exit_code")}
    if as_json:
        console.print_json(json.dumps(rows))
    else:
        table = Table(title="mlsec services")
        for column in ("service", "url", "status", "version", "latency", "pending", "process", "restarts"):
            table.add_column(column)
        for row in rows:
            colour = "green" if row["status"] == "healthy" else "red"
            pending = ", ".join(f"{name}: {task['state']}" for name, task in row.get("pending", {}).items())
            process = row.get("process") or {}
            table.add_row(
                row["service"],
                row["url"],
                f"[{colour}]{row['status']}[/{colour}]",
                row.get("version") or "-",
                f"{row['latency_ms']:.0f} ms",
                pending or "-",
                str(process.get("state", "-")).replace("_", " "),
                str(process.get("restarts", "-")),
            )
        console.print(table)
    raise typer.Exit(0 if all(row["status"] == "healthy" for row in rows) else 1)


async def _collect_status(settings: Settings) -> list[dict[str, Any]]:
    async with platform_http_client(settings) as http:  # the gateway wants a key, the services the token

        async def one(spec: ServiceSpec) -> dict[str, Any]:
            client = ServiceClient(spec.name, settings.url_for(spec), http, settings)
            started = time.perf_counter()
            row: dict[str, Any] = {"service": spec.name, "url": client.base_url}
            try:
                health = await client.get_health()
                own = health.get("gateway", health)  # the gateway's /health is the platform's; its own part
                row.update(status=own.get("status", "unknown"), version=own.get("version"))
                row["pending"] = (await client.get_health_ready()).get("pending", {})
            except ServiceCallError as exc:
                row.update(status=row.get("status", "down"), error=str(exc))
            row["latency_ms"] = (time.perf_counter() - started) * 1000
            return row

        return list(await asyncio.gather(*(one(spec) for spec in SERVICES)))


@app.command()
def train(
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model name.")] = "security-classifier",
    dataset: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="CSV, JSONL or Parquet.")] = None,
    task: Annotated[str | None, typer.Option(help="text_classification, tabular_classification, ...")] = None,
    text_column: Annotated[str, typer.Option(help="Text column of the dataset.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column of the dataset.")] = "label",
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
) -> None:
    """Train a model (with its stored config, or on a dataset file), showing progress; ends with its metrics."""
    from mlsec.launcher.train import run_training

    settings = _settings()
    code = _run(
        lambda: run_training(
            settings,
            console,
            model=model,
            dataset=dataset,
            task=task,
            text_column=text_column,
            label_column=label_column,
            wait=wait,
        )
    )
    raise typer.Exit(code)


@app.command()
def predict(
    text: Annotated[str | None, typer.Argument(help="The text to classify.")] = None,
    file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="One text per line.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Registered model; default: the service's.")
    ] = None,
    version: Annotated[str | None, typer.Option(help="A version number or alias; default: champion.")] = None,
    traffic_class: Annotated[
        TrafficClass,
        typer.Option(help="What the predictions are to monitoring: only production feeds drift, retraining and KPIs."),
    ] = PRODUCTION,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """Classify a text, or every line of a file, with the model API."""
    from mlsec.launcher.predict import run_predict

    if (text is None) == (file is None):
        fail("give a text or --file, not both")
    settings = _settings()
    code = _run(
        lambda: run_predict(
            settings,
            console,
            text=text,
            file=file,
            model=model,
            version=version,
            traffic_class=traffic_class,
            as_json=as_json,
        )
    )
    raise typer.Exit(code)


@app.command()
def redteam(
    model: Annotated[str, typer.Argument(help="A model the model API serves.")],
    version: Annotated[str | None, typer.Option(help="A version number or alias; default: champion.")] = None,
    technique: Annotated[
        list[str] | None, typer.Option("--technique", "-t", help="A technique to run (repeatable); default: all.")
    ] = None,
    variants: Annotated[int, typer.Option(min=1, max=10, help="Attacks per seed payload and technique.")] = 1,
    seed: Annotated[int, typer.Option(min=0, help="The same seed gives the same attacks.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Store the report in analytics.")] = True,
) -> None:
    """Attack a served model with the red-team suite: detection rate per technique, stored in analytics."""
    from mlsec.launcher.redteam import run_redteam

    settings = _settings()
    code = _run(
        lambda: run_redteam(
            settings,
            console,
            err_console,
            model=model,
            version=version,
            techniques=technique,
            variants=variants,
            seed=seed,
            as_json=as_json,
            store=store,
        )
    )
    raise typer.Exit(code)


@app.command()
def config(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective configuration (secrets masked)."""
    shown = effective_settings(_settings())
    if as_json:
        console.print_json(json.dumps(shown))
        return
    table = Table(title="mlsec configuration")
    table.add_column("variable")
    table.add_column("value")
    for name, value in shown.items():
        table.add_row(name, value)
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(service: Annotated[str | None, typer.Argument(help="One service; all when omitted.")] = None) -> None:
    """Apply every pending migration to the service databases (services also do it at start-up)."""
    from mlsec.core.database import Database, ensure_database
    from mlsec.core.migrations import current_revision, upgrade_to_head
    from mlsec.launcher.preflight import check_database

    settings = _settings()
    specs = [_spec(service)] if service else list(SERVICES)

    async def upgrade_all() -> list[tuple[str, str | None]]:
        done = []
        for spec in specs:
            await check_database(settings, spec)
            url = settings.database_url_for(spec)
            await ensure_database(url)
            db = Database(url)
            try:
                await upgrade_to_head(db, spec.key)
                done.append((spec.name, await current_revision(db)))
            finally:
                await db.dispose()
        return done

    for name, revision in _run(upgrade_all):
        console.print(f"{name}: at {revision}")


@db_app.command("revision")
def db_revision(
    service: Annotated[str, typer.Argument(help="Service whose history gets the revision.")],
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
) -> None:
    """Write a new, empty migration file for one service, to be filled in by hand."""
    from alembic import command

    from mlsec.core.migrations import alembic_config, head_revision

    spec = _spec(service)
    head = head_revision(spec.key) or ""
    number = int(head.rsplit("_", 1)[-1]) + 1 if head else 1
    script = command.revision(alembic_config(spec.key), message=message, rev_id=f"{spec.key}_{number:04d}")
    console.print(f"wrote {getattr(script, 'path', script)}")


@auth_app.command("create-key")
def auth_create_key(
    role: Annotated[Role, typer.Option(help="What the key may do.")] = Role.VIEWER,
    name: Annotated[str, typer.Option(help="A label shown in key listings.")] = "cli",
) -> None:
    """Create an API key in the gateway's database and print it once (works while the gateway is stopped)."""
    from pydantic import ValidationError

    from mlsec.services.gateway.schemas.auth import ApiKeyCreate
    from mlsec.services.gateway.service.security.cli import create_key_in_database

    try:
        request = ApiKeyCreate(name=name, role=role)
    except ValidationError:
        fail("--name: 1 to 100 letters, digits, spaces or ._@:- (starting with a letter or digit)")
    settings = _settings()
    key_id, key = _run(lambda: create_key_in_database(settings, request.name, request.role))
    console.print(f"created {request.role} key {key_id} ({request.name}); it is shown this once:")
    console.print(key, soft_wrap=True)
