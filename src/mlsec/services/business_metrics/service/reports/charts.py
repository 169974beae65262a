"""The report's charts, drawn with matplotlib's object API (`Figure`, never pyplot): pyplot keeps one global
current figure, and reports are rendered in worker threads, so each chart owns its figure and nothing is shared.
"""

from __future__ import annotations

import io
import math

from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from mlsec.services.business_metrics.service.reports.content import Series

CHART_SIZE = (7.5, 2.8)
"""Inches; wide and short, one chart per KPI stacked down an HTML page or a PDF page."""
LINE_COLOR = "#2563eb"


def series_figure(series: Series, *, size: tuple[float, float] = CHART_SIZE) -> Figure:
    """One KPI over time as a line (gaps where a bucket had no data), titled with its name and unit."""
    figure = Figure(figsize=size, layout="constrained")
    draw_series(figure.add_subplot(), series)
    return figure


def draw_series(axes: Axes, series: Series) -> None:
    """Draw the series on axes someone else owns (a PDF page stacks several)."""
    starts = [start for start, _ in series.points]
    values = [math.nan if value is None else value for _, value in series.points]
    if starts:
        marker = "o" if len(starts) < 40 else None
        days = date2num(starts)  # type: ignore[no-untyped-call]
        axes.plot(days, values, color=LINE_COLOR, linewidth=1.4, marker=marker, ms=3)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    else:
        axes.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(f"{series.kpi} ({series.unit})" if series.unit else series.kpi, fontsize=10, loc="left")
    axes.grid(visible=True, alpha=0.3)
    axes.tick_params(labelsize=8)


def to_svg(figure: Figure) -> str:
    """The figure as an `<svg>` element to inline in HTML: no XML prolog, no doctype, no creation date (the same
    data gives the same bytes)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
