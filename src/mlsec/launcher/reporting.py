"""What `mlsec up` tells the person at the terminal: the table of services, failures with the tail of the
failing process's log, and the admin key created on first start (shown once, never one that existed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mlsec.core.auth import credentials_path, read_credentials
from mlsec.core.settings import ConfigurationError, Settings


class Reported(Protocol):
    """What the reporter needs of a supervised process."""

    name: str
    url: str
    log_path: Path
    ready_after: float | None

    @property
    def tail(self) -> Iterable[str]: ...


class Reporter:
    def __init__(self, settings: Settings, console: Console):
        self.settings = settings
        self.console = console

    def print_tail(self, child: Reported) -> None:
        self.console.print(f"last lines of {child.log_path}:")
        for line in child.tail:
            self.console.print(Text(f"  {line}"))

    def print_table(self, children: list[Reported], elapsed: float) -> None:
        table = Table(title="mlsec platform")
        for column in ("service", "url", "status", "start-up"):
            table.add_column(column)
        for child in children:
            took = f"{child.ready_after:.1f} s" if child.ready_after is not None else "-"
            table.add_row(child.name, child.url, "[green]ready[/green]", took)
        self.console.print(table)
        self.console.print(
            f"[bold]all {len(children)} processes ready in {elapsed:.1f} s[/bold] - "
            f"gateway: {self.settings.url_for('gateway')}  (Ctrl-C stops everything)"
        )

    def credentials_text(self) -> str | None:
        try:
            return credentials_path(self.settings).read_text(encoding="utf-8")
        except OSError:
            return None

    def announce_new_key(self, before: str | None) -> None:
        """Show the admin key the gateway created during this start, once; never a key that existed before."""
        path = credentials_path(self.settings).resolve()
        after = self.credentials_text()
        if after is None or after == before:
            return
        try:
            key = read_credentials(path)
        except ConfigurationError:
            return
        self.console.print(
            Text.assemble(
                ("admin API key created (shown once): ", "bold yellow"),
                (str(key), "bold"),
                f"\nsaved in {path} (mode 0600), where the CLI and the SDK find it; or set MLSEC_API_KEY.",
            )
        )
