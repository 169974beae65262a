"""The HTML report: one self-contained page (inline CSS, charts as inline SVG) that opens from disk or an email
attachment with nothing to fetch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from mlsec.services.business_metrics.service.reports.charts import series_figure, to_svg
from mlsec.services.business_metrics.service.reports.content import ReportContent, SlaRow, format_value

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #111827; }
h1 { margin-bottom: 0.2rem; } .period { color: #4b5563; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; width: 100%; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 0.3rem 0.6rem; text-align: left; font-size: 0.9rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 1rem; } svg { max-width: 100%; height: auto; }
"""


def render(content: ReportContent) -> bytes:
    """The page as UTF-8 bytes; every text from the data is escaped."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(content.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(content.title)}</h1>",
        f'<p class="period">{escape(period_text(content))}</p>',
        "<h2>Key figures</h2>",
        _table(
            ("KPI", "Value", "Unit", "Description"),
            [(kpi.name, format_value(kpi.value), kpi.unit, kpi.description) for kpi in content.kpis],
            numeric=frozenset({1}),
        ),
        f"<h2>Cost per model version ({escape(content.currency)})</h2>",
        _table(
            ("Model", "Version", "Predictions", "CPU s", "Memory GiB*h", "Cost", "Per 1k predictions"),
            [
                (
                    row.model_name,
                    row.model_version,
                    format_value(row.predictions),
                    format_value(row.cpu_seconds),
                    format_value(row.memory_gib_hours),
                    format_value(row.cost),
                    format_value(row.cost_per_1k_predictions),
                )
                for row in content.costs
            ],
            numeric=frozenset({2, 3, 4, 5, 6}),
        ),
        "<h2>SLA compliance</h2>",
        _sla_table(content.slas),
        "<h2>Trends</h2>",
        *(f"<figure>{to_svg(series_figure(series))}</figure>" for series in content.series),
        "</body></html>",
    ]
    return "\n".join(parts).encode()


def period_text(content: ReportContent) -> str:
    """The period as the title page and the HTML heading state it."""
    start = content.period_start.strftime("%Y-%m-%d %H:%M")
    end = content.period_end.strftime("%Y-%m-%d %H:%M")
    made = content.generated_at.strftime("%Y-%m-%d %H:%M")
    return f"{start} to {end} UTC (resolution: {content.resolution}); generated {made} UTC"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(cell)}</td>' if index in numeric else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">none in this period</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _sla_table(slas: Sequence[SlaRow]) -> str:
    rows = []
    for sla in slas:
        for objective in sla.objectives or ():
            verdict = "n/a" if objective.met is None else ("met" if objective.met else "missed")
            rows.append(
                (
                    sla.model_name,
                    sla.model_version or "every version",
                    objective.objective,
                    format_value(objective.value),
                    format_value(objective.threshold),
                    verdict,
                    str(sla.breaches),
                )
            )
    return _table(
        ("Model", "Version", "Objective", "Measured", "Threshold", "Verdict", "Breaches"),
        rows,
        numeric=frozenset({3, 4, 6}),
    )
