"""One entry point from a report's content to the bytes of a format; the PDF and HTML renderers are CPU work
(matplotlib), so callers run `render` in a worker thread."""

from __future__ import annotations

import json

from mlsec.services.business_metrics.service.reports import csv_report, html_report, pdf_report
from mlsec.services.business_metrics.service.reports.content import ReportContent, ReportFormat


def render(content: ReportContent, fmt: ReportFormat) -> bytes:
    """The report in that format (json, csv, html or pdf)."""
    if fmt == "json":
        return json.dumps(content.to_dict(), indent=2).encode()
    if fmt == "csv":
        return csv_report.render(content)
    if fmt == "html":
        return html_report.render(content)
    return pdf_report.render(content)
