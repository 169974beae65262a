"""Business reports through the gateway: a PDF and a CSV report generated with `POST
/api/business-metrics/reports/generate` by an operator are downloaded by a viewer with their bytes and content type
unchanged (the PDF binary, the CSV holding the loaded model's figures); a viewer may not generate one nor set an
SLA. The real business-metrics service on its own port, its records written through its own writers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from mlsec.core.auth import Role
from mlsec.core.settings import Settings
from mlsec.services.business_metrics.app import create_app
from mlsec.services.business_metrics.service.rollups import add_predictions
from mlsec.services.business_metrics.settings import DEFAULT_BENIGN_LABELS
from tests.api.business_metrics.conftest import business_settings, prediction
from tests.api.gateway.security_support import running_gateway
from tests.servers import ThreadedServer

pytestmark = pytest.mark.anyio
API = "/api/business-metrics"
MODEL = "relay-detector"
PREDICTIONS = 12


@pytest.fixture
def business_server(backend_settings: Settings) -> Iterator[ThreadedServer]:
    """The real business-metrics service (collector off) on its own port, on SQLite and on PostgreSQL."""
    server = ThreadedServer(create_app(backend_settings, business_settings())).start()
    try:
        yield server
    finally:
        server.stop()


async def _load(settings: Settings) -> None:
    """Twelve production predictions of the model two minutes ago, straight into the service's database."""
    engine = create_async_engine(settings.database_url_for("business-metrics"))
    at = datetime.now(UTC) - timedelta(minutes=2)
    try:
        async with engine.begin() as conn:
            samples = [prediction(at, model_name=MODEL, latency_ms=5.0 + i) for i in range(PREDICTIONS)]
            await add_predictions(conn, samples, DEFAULT_BENIGN_LABELS)
    finally:
        await engine.dispose()


async def test_reports_come_through_with_their_bytes_and_content_type(
    settings: Settings, backend_settings: Settings, business_server: ThreadedServer
) -> None:
    await _load(backend_settings)
    async with running_gateway(settings, business_metrics_url=business_server.url) as gateway:
        operator, viewer = await gateway.new_key(Role.OPERATOR), await gateway.new_key(Role.VIEWER)
        generated = {}
        for fmt in ("pdf", "csv"):
            answer = await gateway.http.post(
                f"{API}/reports/generate", json={"period": "1h", "format": fmt}, headers=gateway.as_key(operator)
            )
            assert answer.status_code == 201, answer.text
            generated[fmt] = answer.json()

        as_viewer = gateway.as_key(viewer)
        pdf = await gateway.http.get(f"{API}/reports/{generated['pdf']['id']}/download", headers=as_viewer)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-") and len(pdf.content) == generated["pdf"]["size_bytes"]
        assert pdf.headers["content-disposition"].startswith("attachment; filename=")

        table = await gateway.http.get(
            f"{API}/reports/{generated['csv']['id']}/download", headers=gateway.as_key(viewer)
        )
        assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
        assert table.headers["content-disposition"].startswith("attachment; filename=")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        counted = [
            r for r in rows if r["section"] == "cost" and r["model_name"] == MODEL and r["name"] == "predictions"
        ]
        assert [float(r["value"]) for r in counted] == [PREDICTIONS]


async def test_a_viewer_may_read_but_not_generate_a_report_nor_set_an_sla(
    settings: Settings, business_server: ThreadedServer
) -> None:
    async with running_gateway(settings, business_metrics_url=business_server.url) as gateway:
        viewer = gateway.as_key(await gateway.new_key(Role.VIEWER))
        generate = await gateway.http.post(f"{API}/reports/generate", json={"format": "csv"}, headers=viewer)
        assert generate.status_code == 403
        sla = await gateway.http.put(f"{API}/slas/{MODEL}", json={"latency_p99_ms": 50}, headers=viewer)
        assert sla.status_code == 403
        listed = await gateway.http.get(f"{API}/reports", headers=viewer)
        assert listed.status_code == 200 and listed.json()["reports"] == []


async def test_metrics_as_json_and_as_prometheus_text_are_cached_apart(
    settings: Settings, backend_settings: Settings, business_server: ThreadedServer
) -> None:
    async with running_gateway(settings, business_metrics_url=business_server.url) as gateway:
        viewer = gateway.as_key(await gateway.new_key(Role.VIEWER))
        for _ in range(2):  # the second round is answered from the gateway's cache
            as_json = await gateway.http.get(f"{API}/metrics", headers={**viewer, "Accept": "application/json"})
            assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
            assert "totals" in as_json.json()
            as_text = await gateway.http.get(f"{API}/metrics", headers=viewer)
            assert as_text.status_code == 200 and as_text.headers["content-type"].startswith("text/plain")
            assert "# TYPE" in as_text.text
