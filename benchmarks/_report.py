"""Recording: the machine and versions a run used, the table, and the result files.

A figure without its machine and versions cannot be compared with anything, so every result file
carries both, and the exact parameters.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil
from rich.table import Table

from benchmarks._load import GENERATOR
from benchmarks.foundation import Comparison, Params

PACKAGES = ("fastapi", "uvicorn", "httpx", "starlette", "pydantic", "mlsec", "mlflow", "scikit-learn")
COLUMNS = (
    "Case",
    "Conc",
    "Variant",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "req/s ratio",
    "p99 ratio",
    "CPU ratio",
)
TEXT_COLUMNS = frozenset({"Case", "Variant"})
TABLE_WIDTH = 140
"""Wide enough for every column; a piped run would otherwise be cut to 80 columns."""
CAPTION = (
    "ratio = mlsec / baseline, same run. CPU: the server process (stack rows), the benchmark process (client rows)."
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the figures depend on: CPU, cores usable by this process, memory, OS, load before the run."""
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """The installed versions of everything on the measured path (or of `packages`: a suite's anchor)."""
    found: dict[str, str] = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _cells(comparison: Comparison) -> list[list[str]]:
    """Two rows per comparison: the baseline (ratios 1 by definition), then ours with its ratios."""
    rows = []
    for name, stats, ratios in (
        (comparison.baseline_name, comparison.baseline, ("1.00", "1.00", "1.00")),
        (
            comparison.subject_name,
            comparison.subject,
            (f"{comparison.rps_ratio:.2f}", f"{comparison.p99_ratio:.2f}", f"{comparison.cpu_ratio:.2f}"),
        ),
    ):
        rows.append(
            [
                comparison.case,
                str(comparison.concurrency),
                name,
                f"{stats.rps:,.0f}",
                f"{stats.p50_ms:.2f}",
                f"{stats.p99_ms:.2f}",
                f"{stats.cpu_us_per_request:,.0f}",
                *ratios,
            ]
        )
    return rows


def rich_table(
    comparisons: list[Comparison], *, title: str = "mlsec foundation benchmarks", caption: str = CAPTION
) -> Table:
    table = Table(title=title, caption=caption)
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in TEXT_COLUMNS else "right", no_wrap=True)
    for comparison in comparisons:
        for index, row in enumerate(_cells(comparison)):
            table.add_row(*row, end_section=index == 1)
    return table


def markdown_table(comparisons: list[Comparison]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for c in comparisons for row in _cells(c)]
    return "\n".join(lines)


def verdict_word(met: bool) -> str:
    """How a verdict reads in tables and records: a goal missed is spelled out in capitals, never softened."""
    return "met" if met else "NOT met"


def cells_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
    left: Collection[str] | None = None,
) -> Table:
    """A rich table of cells already formatted as text: the `left` columns (default: the first) left-aligned,
    the figures right-aligned so their digits line up."""
    left = {columns[0]} if left is None else left
    table = Table(title=title, caption=caption)
    for column in columns:
        table.add_column(column, justify="left" if column in left else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def markdown_cells(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The same cells as a Markdown table, for the record."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict_table(lines: Iterable[str]) -> Table:
    """The verdict lines of a suite, one row each, printed after its figures."""
    table = Table(title="Verdicts", show_header=False)
    table.add_column("verdict")
    for line in lines:
        table.add_row(line)
    return table


def machine_lines(record: dict[str, Any]) -> str:
    """A record's first Markdown lines: the machine, its load at start and end, Python and package versions."""
    m = record["machine"]
    versions_line = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    cores = f"{m['cpu_count']} cores ({m['usable_cores']} usable)"
    return f"""- Machine: {m["cpu_model"]}, {cores}, {m["memory_gib"]} GiB, {m["os"]}
- Load average (1/5/15 min) at start: {_load(m["load_average_at_start"])}, at end: {_load(m["load_average_at_end"])}
- Python {m["python"]}; {versions_line}"""


def _comparison_json(comparison: Comparison) -> dict[str, Any]:
    data = asdict(comparison)
    data["ratios"] = {"rps": comparison.rps_ratio, "p99": comparison.p99_ratio, "cpu": comparison.cpu_ratio}
    return data


def _load(values: list[float]) -> str:
    return " / ".join(str(x) for x in values)


def _markdown(record: dict[str, Any], comparisons: list[Comparison]) -> str:
    m, p = record["machine"], record["parameters"]
    versions_line = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    return f"""# Foundation benchmarks, {record["started_at"]}

- Machine: {m["cpu_model"]}, {m["cpu_count"]} cores ({m["usable_cores"]} usable), {m["memory_gib"]} GiB, {m["os"]}
- Load average (1/5/15 min) at start: {_load(m["load_average_at_start"])}, at end: {_load(m["load_average_at_end"])}
- Python {m["python"]} ({m["python_implementation"]}); {versions_line}
- Parameters: {p["requests"]} requests per cell in {p["rounds"]} interleaved rounds after {p["warmup"]} warm-up \
requests; service stack at concurrency {", ".join(map(str, p["service_concurrency"]))}, client at \
{p["client_concurrency"]}; loopback, uvicorn defaults (one worker); {GENERATOR}.
- Run time: {record["duration_s"]:.0f} s

{markdown_table(comparisons)}

Ratios are mlsec / baseline from this run: req/s below 1, p99 and CPU above 1 mean mlsec costs more.
CPU µs/req is the server process's for the service-stack rows and the benchmark process's for the client rows.
See `benchmarks/README.md` for what each row measures.
"""


def write_record(directory: Path, stem: str, record: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.md`, each through a `.tmp` file so a crash leaves no half file."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in ((".json", json.dumps(record, indent=2) + "\n"), (".md", markdown)):
        path = directory / f"{stem}{suffix}"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written[0], written[1]


def write_results(
    directory: Path, stem: str, record: dict[str, Any], comparisons: list[Comparison]
) -> tuple[Path, Path]:
    """The foundation suite's record and its markdown summary."""
    full = {**record, "comparisons": [_comparison_json(c) for c in comparisons]}
    return write_record(directory, stem, full, _markdown(record, comparisons))


def parameters(params: Params) -> dict[str, Any]:
    return asdict(params)
