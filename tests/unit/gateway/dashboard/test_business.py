"""The business page through HTTP: the frame its script fills (the period, a tile per KPI, the per version table,
SLA compliance and breaches, the trend's KPI and model, the reports) for a viewer, the report form for operators
only, the page in the navigation after Traces, the error state when the business metrics service does not
answer, and who may call the service's routes through the gateway.

The figures the script puts in the frame come from the real service: tests/browser/test_business_page.py.
"""

from __future__ import annotations

import re

import pytest

from mlsec.core.auth import Role
from mlsec.services.gateway.service.dashboard import PAGES, business
from mlsec.services.gateway.service.security.policy import requirement_for
from tests.api.gateway.security_support import Gateway, sign_in_as

pytestmark = pytest.mark.anyio


async def test_a_viewer_gets_every_part_the_script_fills_and_no_report_form(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    page = await gateway.http.get("/ui/business")
    assert page.status_code == 200
    text = page.text
    assert '<main id="content" data-page="business"' in text and "<title>Business" in text
    assert 'data-page="business" href="/ui/business"' in text
    assert 'src="/static/pages/business.js"' in text
    tiles = re.findall(r'class="figure kpi-tile" data-kpi="(\w+)"', text)
    assert tiles == [kpi for kpi, _, _ in business.TILES]
    assert {"predictions", "detection_rate", "false_positive_rate", "latency_p99_ms", "availability"} <= set(tiles)
    assert "cost_per_1k_predictions" in tiles and "threats_detected" in tiles
    periods = text.split('id="business-period"', 1)[1].split("</select>", 1)[0]
    assert '<option value="24h" selected>last 24 hours</option>' in periods
    kpis = re.findall(r'<option value="(\w+)">', text.split('id="trend-kpi"', 1)[1].split("</select>", 1)[0])
    assert kpis == [kpi for kpi, _ in business.TREND_KPIS]
    for element in ("version-table", "sla-table", "breach-table", "trend-chart", "trend-summary", "report-table"):
        assert f'id="{element}"' in text, element
    assert 'id="business-empty"' in text and 'id="business-error"' in text
    assert 'id="report-form"' not in text and "Generating a report needs an operator" in text
    assert "<script>" not in text.split("<main", 1)[1]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
async def test_an_operator_gets_the_report_form_with_every_format(gateway: Gateway, role: Role) -> None:
    await sign_in_as(gateway, role)
    text = (await gateway.http.get("/ui/business")).text
    assert 'id="report-form" class="write-control"' in text
    formats = re.findall(r'<option value="(\w+)">', text.split('id="report-format"', 1)[1].split("</select>", 1)[0])
    assert formats == ["pdf", "html", "csv", "json"]


async def test_with_the_service_down_the_page_says_so_before_any_script_runs(gateway: Gateway) -> None:
    await sign_in_as(gateway, Role.VIEWER)
    page = await gateway.http.get("/ui/business")
    assert page.status_code == 200  # the page itself never fails
    down = page.text.split('id="business-down"', 1)[1].split("</p>", 1)[0]
    assert "The business metrics service does not answer (business-metrics:" in down


async def test_the_pages_script_is_served_and_builds_no_html_from_data(gateway: Gateway) -> None:
    script = await gateway.http.get("/static/pages/business.js")
    assert script.status_code == 200
    assert ".innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert 'API = "/api/business-metrics"' in script.text


def test_the_page_is_in_the_navigation_after_traces() -> None:
    names = list(PAGES)
    assert names.index("business") == names.index("traces") + 1
    assert PAGES["business"].need == Role.VIEWER and "business" in PAGES["business"].topics


@pytest.mark.parametrize(
    ("method", "path", "need"),
    [
        ("GET", "/api/business-metrics/metrics/summary", Role.VIEWER),
        ("GET", "/api/business-metrics/reports/{report_id}/download", Role.VIEWER),
        ("GET", "/api/business-metrics/slas/{model_name}/compliance", Role.VIEWER),
        ("POST", "/api/business-metrics/reports/generate", Role.OPERATOR),
        ("PUT", "/api/business-metrics/slas/{model_name}", Role.OPERATOR),
        ("DELETE", "/api/business-metrics/slas/{model_name}", Role.OPERATOR),
    ],
)
def test_reads_are_a_viewers_and_reports_and_slas_an_operators(method: str, path: str, need: Role) -> None:
    assert requirement_for(method, path) == need
