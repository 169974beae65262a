"""Drift detection: `mlsec.ml.drift.detect_drift` against Evidently's data-drift report, on the same data.

Evidently is what a user would otherwise run to ask "has my data drifted?" of a table, so it is the anchor.
Both get the same two pandas DataFrames: a seeded reference and current table of 1,000,000 rows by 20
numeric columns (`--quick`: 100,000 rows), where some columns are left alone and others shifted, rescaled or
re-mixed by various amounts, some just below and some just above the 0.1 threshold of the default test, so
the per-column decisions are not all alike.

Measured in one run, wall-clock and process CPU time:

1. Default tests: `detect_drift(reference, current)` (the automatic choice: normed Wasserstein at 0.1 on
   every column of this size) against `Report([DataDriftPreset()])`, Evidently's defaults (which choose the
   same test). Ours runs once unmeasured and then three times (median), Evidently once: it takes minutes.
2. Like with like, Kolmogorov-Smirnov: `detect_drift(..., tests=["ks"])` with no correction, as Evidently
   decides each column at p <= 0.05 on its own, against `DataDriftPreset(method="ks")`.

For each, the speed-up (Evidently seconds / ours) and whether each column's drift decision is the same; a
column that differs is listed with both statistics. Evidently's per-column verdicts are read from its own
tests (`include_tests=True`: a pass/fail per column, computed from the values the report computes anyway).
"""

from __future__ import annotations

import importlib
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks import _report
from benchmarks._servers import BenchmarkError
from mlsec.ml.drift import DriftConfig, DriftReport, adjust_p_values, detect_drift

ROWS = 1_000_000
QUICK_ROWS = 100_000
OURS_REPETITIONS = 3
SPEEDUP_GOAL = 10.0
ANCHOR_PACKAGES = ("evidently", "numpy", "scipy", "pandas")


@dataclass(frozen=True)
class DriftParams:
    """What the suite generates and runs."""

    rows: int = ROWS
    seed: int = 0
    ours_repetitions: int = OURS_REPETITIONS
    ks_anchor: bool = True


@dataclass(frozen=True)
class Column:
    """One generated column: its distribution and what changes from reference to current.

    `shift` moves the current sample by that many reference standard deviations; `scale` multiplies it
    (around 0, the centre of the symmetric distributions); `mix` is the current share of the lower mode of
    the bimodal distribution (0.5 in the reference).
    """

    name: str
    distribution: str
    shift: float = 0.0
    scale: float = 1.0
    mix: float = 0.5

    @property
    def change(self) -> str:
        parts = []
        if self.shift:
            parts.append(f"shift {self.shift:g} sd")
        if self.scale != 1.0:
            parts.append(f"scale x{self.scale:g}")
        if self.mix != 0.5:
            parts.append(f"mix 0.5 -> {self.mix:g}")
        return ", ".join(parts) or "none"


COLUMNS = (
    Column("c00", "normal"),
    Column("c01", "normal"),
    Column("c02", "lognormal"),
    Column("c03", "uniform"),
    Column("c04", "student-t"),
    Column("c05", "normal", shift=0.02),
    Column("c06", "normal", shift=0.05),
    Column("c07", "exponential", shift=0.08),
    Column("c08", "normal", shift=0.09),
    Column("c09", "normal", shift=0.11),
    Column("c10", "lognormal", shift=0.15),
    Column("c11", "uniform", shift=0.3),
    Column("c12", "normal", shift=1.0),
    Column("c13", "student-t", shift=0.12),
    Column("c14", "normal", scale=1.05),
    Column("c15", "normal", scale=1.3),
    Column("c16", "exponential", scale=1.2),
    Column("c17", "bimodal", mix=0.55),
    Column("c18", "bimodal", mix=0.6),
    Column("c19", "bimodal"),
)


def _draw(rng: np.random.Generator, distribution: str, rows: int, mix: float) -> np.ndarray[Any, Any]:
    if distribution == "normal":
        return rng.normal(0.0, 1.0, rows)
    if distribution == "lognormal":
        return rng.lognormal(0.0, 0.5, rows)
    if distribution == "uniform":
        return rng.uniform(0.0, 1.0, rows)
    if distribution == "exponential":
        return rng.exponential(1.0, rows)
    if distribution == "student-t":
        return rng.standard_t(5, rows)
    lower = rng.random(rows) < mix  # bimodal: modes at -2 and +2
    return np.where(lower, rng.normal(-2.0, 1.0, rows), rng.normal(2.0, 1.0, rows))


def generate(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference and current tables, `rows` rows each, one column per COLUMNS entry."""
    rng = np.random.default_rng(seed)
    reference, current = {}, {}
    for column in COLUMNS:
        before = _draw(rng, column.distribution, rows, 0.5)
        after = _draw(rng, column.distribution, rows, column.mix) * column.scale
        reference[column.name] = before
        current[column.name] = after + column.shift * float(np.std(before))
    return pd.DataFrame(reference), pd.DataFrame(current)


def _evidently() -> tuple[Any, Any]:
    """Evidently's Report and DataDriftPreset, telemetry off; BenchmarkError saying how to install it."""
    os.environ["DO_NOT_TRACK"] = "1"  # Evidently's switch for its usage telemetry, read when it sends
    try:
        report = importlib.import_module("evidently").Report
        preset = importlib.import_module("evidently.presets").DataDriftPreset
    except ImportError as exc:
        raise BenchmarkError(f"Evidently is not installed ({exc}): `uv sync --group bench` installs it") from exc
    return report, preset


def _timed(function: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process: every thread of ours, all of Evidently's work)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _ours(reference: pd.DataFrame, current: pd.DataFrame, repetitions: int, **kwargs: Any) -> dict[str, Any]:
    """Once unmeasured (the allocator's first page faults of a fresh process), then `repetitions` timed runs."""
    detect_drift(reference, current, **kwargs)
    runs = [_timed(lambda: detect_drift(reference, current, **kwargs)) for _ in range(repetitions)]
    report: DriftReport = runs[0][0]
    return {
        "report": report,
        "wall_s": statistics.median(run[1] for run in runs),
        "cpu_s": statistics.median(run[2] for run in runs),
        "wall_s_runs": [round(run[1], 3) for run in runs],
    }


def _anchor(reference: pd.DataFrame, current: pd.DataFrame, method: str | None) -> dict[str, Any]:
    """Evidently's data-drift report once; per column its statistic, method, threshold and verdict."""
    report_class, preset_class = _evidently()
    preset = preset_class() if method is None else preset_class(method=method)
    report = report_class([preset], include_tests=True)
    snapshot, wall, cpu = _timed(lambda: report.run(current_data=current, reference_data=reference))
    data = snapshot.dict()
    columns: dict[str, dict[str, Any]] = {}
    dataset_drift: bool | None = None
    for metric in data["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            columns[config["column"]] = {
                "statistic": float(metric["value"]),
                "method": config["method"],
                "threshold": config["threshold"],
            }
    for test in data["tests"]:
        params = test["metric_config"]["params"]
        if params.get("type", "").endswith("ValueDrift"):
            columns[params["column"]]["drift"] = test["status"] == "FAIL"
        elif params.get("type", "").endswith("DriftedColumnsCount"):
            dataset_drift = test["status"] == "FAIL"
    return {"columns": columns, "dataset_drift": dataset_drift, "wall_s": wall, "cpu_s": cpu}


def _compare(ours: dict[str, Any], anchor: dict[str, Any], corrected: bool) -> dict[str, Any]:
    """Column by column: both statistics and decisions (and, for KS, our default BH-corrected decision)."""
    report: DriftReport = ours["report"]
    rows, differing = [], []
    raw = [report.feature(column.name).tests[0].p_value for column in COLUMNS]
    bh = adjust_p_values([p if p is not None else 1.0 for p in raw], "benjamini-hochberg") if corrected else None
    for index, column in enumerate(COLUMNS):
        result = report.feature(column.name).tests[0]
        theirs = anchor["columns"][column.name]
        row = {
            "column": column.name,
            "distribution": column.distribution,
            "change": column.change,
            "ours_test": result.test,
            "ours_statistic": result.p_value if result.p_value is not None else result.statistic,
            "ours_drift": result.drift_detected,
            "evidently_method": theirs["method"],
            "evidently_statistic": theirs["statistic"],
            "evidently_drift": theirs["drift"],
            "agree": result.drift_detected == theirs["drift"],
        }
        if bh is not None:
            row["ours_drift_with_bh"] = bool(bh[index] < report.alpha)
        rows.append(row)
        if not row["agree"]:
            differing.append(column.name)
    return {
        "ours_s": ours["wall_s"],
        "ours_cpu_s": ours["cpu_s"],
        "ours_runs_s": ours["wall_s_runs"],
        "evidently_s": anchor["wall_s"],
        "evidently_cpu_s": anchor["cpu_s"],
        "speedup": anchor["wall_s"] / ours["wall_s"],
        "ours_method": report.method,
        "ours_dataset_drift": report.drift_detected,
        "ours_drifted_columns": report.drifted_features,
        "evidently_dataset_drift": anchor["dataset_drift"],
        "evidently_drifted_columns": sum(c["drift"] for c in anchor["columns"].values()),
        "columns": rows,
        "differing_columns": differing,
        "max_statistic_difference": max(abs(r["ours_statistic"] - r["evidently_statistic"]) for r in rows),
    }


def run(workdir: Path, params: DriftParams, console: Console) -> dict[str, Any]:
    """Generate the data, then time and compare both tools: default tests, then KS. `workdir` is unused."""
    _evidently()  # fail before generating a gigabyte of data when the anchor is missing
    console.log(f"generating {params.rows:,} rows x {len(COLUMNS)} columns, reference and current ...")
    reference, current = generate(params.rows, params.seed)
    figures: dict[str, Any] = {
        "anchor_versions": _report.versions(ANCHOR_PACKAGES),
        "columns_spec": [asdict(c) for c in COLUMNS],
    }
    console.log(f"ours, default tests, {params.ours_repetitions} runs ...")
    ours = _ours(reference, current, params.ours_repetitions)
    console.log("Evidently, DataDriftPreset() defaults, once ...")
    anchor = _anchor(reference, current, None)
    figures["default"] = _compare(ours, anchor, corrected=False)
    if params.ks_anchor:
        console.log(f"ours, KS without correction, {params.ours_repetitions} runs ...")
        no_correction = DriftConfig(correction="none")
        ours = _ours(reference, current, params.ours_repetitions, tests=["ks"], config=no_correction)
        console.log('Evidently, DataDriftPreset(method="ks"), once ...')
        figures["ks"] = _compare(ours, _anchor(reference, current, "ks"), corrected=True)
    return figures


TIMING_COLUMNS = ("Tests", "ours s", "Evidently s", "speed-up", "ours CPU s", "Evidently CPU s", "decisions")
DEFAULT_COLUMNS = ("Column", "Change", "ours W", "Evidently W", "ours", "Evidently", "same")
KS_COLUMNS = ("Column", "Change", "ours p", "Evidently p", "ours", "Evidently", "same", "ours with BH")
CASES = (("default", "default (normed Wasserstein)"), ("ks", "Kolmogorov-Smirnov"))


def _flag(drift: bool) -> str:
    return "drift" if drift else "-"


def _timing_cells(record: dict[str, Any]) -> list[list[str]]:
    cells = []
    for key, label in CASES:
        if key not in record:
            continue
        case = record[key]
        same = len(case["columns"]) - len(case["differing_columns"])
        cells.append(
            [
                label,
                f"{case['ours_s']:.2f}",
                f"{case['evidently_s']:.1f}",
                f"{case['speedup']:.1f}x",
                f"{case['ours_cpu_s']:.2f}",
                f"{case['evidently_cpu_s']:.1f}",
                f"{same}/{len(case['columns'])} same",
            ]
        )
    return cells


def _column_cells(case: dict[str, Any], with_bh: bool) -> list[list[str]]:
    number = "{:.3g}" if with_bh else "{:.4f}"
    cells = []
    for row in case["columns"]:
        cell = [
            row["column"],
            f"{row['distribution']}, {row['change']}",
            number.format(row["ours_statistic"]),
            number.format(row["evidently_statistic"]),
            _flag(row["ours_drift"]),
            _flag(row["evidently_drift"]),
            "yes" if row["agree"] else "NO",
        ]
        if with_bh:
            cell.append(_flag(row["ours_drift_with_bh"]))
        cells.append(cell)
    return cells


def verdict_lines(record: dict[str, Any]) -> list[str]:
    word = _report.verdict_word
    lines = []
    for key, label in CASES:
        if key not in record:
            continue
        case = record[key]
        differing = ", ".join(case["differing_columns"]) or "none"
        lines.append(
            f"{label}: speed-up goal (at least {SPEEDUP_GOAL:g}x Evidently): {word(case['speedup'] >= SPEEDUP_GOAL)}: "
            f"{case['speedup']:.1f}x ({case['ours_s']:.2f} s against {case['evidently_s']:.1f} s). Same decision "
            f"on every column: {word(not case['differing_columns'])} (differing: {differing}); dataset drift: "
            f"ours {case['ours_dataset_drift']} ({case['ours_drifted_columns']} columns), Evidently "
            f"{case['evidently_dataset_drift']} ({case['evidently_drifted_columns']} columns); largest statistic "
            f"difference {case['max_statistic_difference']:.1e}."
        )
    return lines


def rich_tables(figures: dict[str, Any]) -> list[Table]:
    rows = figures["parameters"]["rows"]
    tables = [
        _report.cells_table(
            f"Drift: detect_drift against Evidently, {rows:,} rows x {len(COLUMNS)} columns",
            TIMING_COLUMNS,
            _timing_cells(figures),
            caption="ours: median of runs; Evidently: one run. speed-up = Evidently s / ours s.",
        ),
        _report.cells_table("Default tests, per column", DEFAULT_COLUMNS, _column_cells(figures["default"], False)),
    ]
    if "ks" in figures:
        tables.append(
            _report.cells_table("Kolmogorov-Smirnov, per column", KS_COLUMNS, _column_cells(figures["ks"], True))
        )
    tables.append(_report.verdict_table(verdict_lines(figures)))
    return tables


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    """The record as it is: every figure is already plain data."""
    return record


def markdown(record: dict[str, Any]) -> str:
    p = record["parameters"]
    anchors = ", ".join(f"{name} {version}" for name, version in record["anchor_versions"].items())
    verdicts = "\n".join(f"- {line}" for line in verdict_lines(record))
    ks = ""
    if "ks" in record:
        ks = f"""
## Kolmogorov-Smirnov, like with like (no correction on ours; Evidently decides each column alone)

{_report.markdown_cells(KS_COLUMNS, _column_cells(record["ks"], True))}

"ours with BH" is what our default Benjamini-Hochberg correction across the 20 columns would decide.
"""
    return f"""# Drift benchmark, {record["started_at"]}

{_report.machine_lines(record)}
- Anchor and numerics: {anchors}
- Data: {p["rows"]:,} rows x {len(COLUMNS)} numeric columns per side (seed {p["seed"]}); ours is timed as the \
median of {p["ours_repetitions"]} runs after one unmeasured run, Evidently once.
- Run time: {record["duration_s"]:.0f} s

{_report.markdown_cells(TIMING_COLUMNS, _timing_cells(record))}

speed-up = Evidently seconds / ours (wall clock, same process, same DataFrames); CPU s is this process's CPU
time (ours runs features in threads).

## Default tests, per column (normed Wasserstein distance, drift at >= 0.1)

{_report.markdown_cells(DEFAULT_COLUMNS, _column_cells(record["default"], False))}
{ks}
## Verdicts

{verdicts}

See `benchmarks/README.md` for what each figure measures.
"""
