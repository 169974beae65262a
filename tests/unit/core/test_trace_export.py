"""The span export: batched off the request path, drops counted, a backoff while the receiver is down, and
export that resumes by itself; against a real OTLP/HTTP receiver on a local port (an HTTP server that
decodes the protobuf), not a stand-in exporter."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import CollectorRegistry

from mlsec.core.settings import Settings
from mlsec.core.telemetry import FASTAPI_TELEMETRY_OFF, setup_telemetry
from mlsec.core.trace_export import ExportingSpanProcessor, ExportMetrics, export_endpoint
from tests.otlp_support import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def build(endpoint: str, **options: Any) -> tuple[ExportingSpanProcessor, ExportMetrics, TracerProvider]:
    metrics = ExportMetrics(CollectorRegistry())
    processor = ExportingSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=0.5), metrics=metrics, **options)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return processor, metrics, provider


def emit(provider: TracerProvider, count: int, name: str = "work") -> None:
    tracer = provider.get_tracer("test")
    for _ in range(count):
        with tracer.start_as_current_span(name):
            pass


def dropped(metrics: ExportMetrics, reason: str) -> float:
    return float(metrics.dropped.labels(reason)._value.get())


def exported(metrics: ExportMetrics) -> float:
    return float(metrics.exported._value.get())


def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_spans_are_exported_in_batches_to_the_receiver(receiver: Receiver) -> None:
    processor, metrics, provider = build(receiver.endpoint, batch_size=10, schedule_delay=0.05)
    emit(provider, 25)
    assert processor.force_flush(5_000)
    assert receiver.spans == ["work"] * 25
    assert exported(metrics) == 25
    assert receiver.requests >= 3  # batches of at most 10
    provider.shutdown()


def test_a_full_queue_drops_and_counts_without_waiting(receiver: Receiver) -> None:
    processor, metrics, provider = build(receiver.endpoint, max_queue=20, batch_size=100, schedule_delay=60)
    started = time.perf_counter()
    emit(provider, 50)  # the thread sleeps for a minute: nothing leaves, the queue fills
    assert time.perf_counter() - started < 1.0  # on_end never waited
    assert dropped(metrics, "queue_full") == 30
    assert processor.force_flush(5_000)
    assert len(receiver.spans) == 20
    provider.shutdown()


def test_receiver_down_counts_drops_backs_off_and_resumes(receiver: Receiver) -> None:
    receiver.stop()
    processor, metrics, provider = build(
        receiver.endpoint, batch_size=5, schedule_delay=0.05, backoff_initial=1.0, backoff_max=2.0
    )  # backoffs long enough that a loaded machine's scheduling delays cannot outlast them
    emit(provider, 5)
    eventually(lambda: dropped(metrics, "export_failed") == 5)
    assert processor.backoff == 1.0
    assert metrics.receiver_up._value.get() == 0
    emit(provider, 5)  # a full batch while backing off: queued, not sent before the backoff ends
    time.sleep(0.1)
    assert dropped(metrics, "export_failed") == 5
    eventually(lambda: dropped(metrics, "export_failed") == 10)
    assert processor.backoff == 2.0  # doubled after the second failure, and capped
    receiver.start()
    emit(provider, 3, name="after")
    eventually(lambda: receiver.spans == ["after"] * 3, within=10.0)
    assert processor.backoff == 0
    assert metrics.receiver_up._value.get() == 1
    assert exported(metrics) == 3
    provider.shutdown()


def test_an_idle_export_thread_after_a_failure_sleeps_instead_of_spinning(receiver: Receiver) -> None:
    receiver.stop()
    _, metrics, provider = build(receiver.endpoint, batch_size=5, schedule_delay=0.2, backoff_initial=0.1)
    emit(provider, 5)
    eventually(lambda: dropped(metrics, "export_failed") == 5)
    time.sleep(0.3)  # the retry time has passed and nothing is queued
    cpu_before, wall_before = time.process_time(), time.monotonic()
    time.sleep(1.0)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    assert cpu < 0.5 * wall, f"the process used {cpu:.2f} s of CPU in {wall:.2f} s while idle"
    provider.shutdown()


def test_shutdown_sends_what_is_left_within_its_deadline(receiver: Receiver) -> None:
    _, metrics, provider = build(receiver.endpoint, schedule_delay=60)
    emit(provider, 7)
    provider.shutdown()
    assert receiver.spans == ["work"] * 7
    emit(provider, 1)  # after shutdown: counted, never sent
    assert dropped(metrics, "shutdown") == 1


def test_shutdown_while_the_receiver_is_down_is_quick_and_counts_the_rest(receiver: Receiver) -> None:
    receiver.stop()
    processor, metrics, provider = build(receiver.endpoint, batch_size=2, schedule_delay=0.05, backoff_initial=30)
    emit(provider, 2)
    eventually(lambda: dropped(metrics, "export_failed") == 2)
    emit(provider, 4)
    started = time.perf_counter()
    provider.shutdown()
    assert time.perf_counter() - started < 2.5
    assert dropped(metrics, "shutdown") == 4
    assert processor.backoff == 30


def test_unsampled_spans_are_not_queued(receiver: Receiver) -> None:
    processor = ExportingSpanProcessor(
        OTLPSpanExporter(endpoint=receiver.endpoint), metrics=ExportMetrics(CollectorRegistry())
    )
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(processor)
    emit(provider, 3)
    assert processor.force_flush(1_000)
    assert receiver.spans == []


def test_the_endpoint_is_the_tracing_service_unless_an_otlp_endpoint_is_set() -> None:
    assert export_endpoint(Settings(_env_file=None, trace_export=True)) == "http://127.0.0.1:8009/v1/traces"
    assert (
        export_endpoint(Settings(_env_file=None, trace_export=True, tracing_url="http://traces:9000/"))
        == "http://traces:9000/v1/traces"
    )
    collector = Settings(_env_file=None, trace_export=True, otel_exporter_otlp_endpoint="http://collector:4318")
    assert export_endpoint(collector) == "http://collector:4318/v1/traces"
    assert export_endpoint(Settings(_env_file=None, trace_export=False)) is None


def test_export_is_on_by_default() -> None:
    assert Settings.model_fields["trace_export"].default is True


@pytest.mark.anyio
async def test_the_receiver_path_and_static_files_are_never_traced_and_export_is_counted_in_the_apps_registry(
    receiver: Receiver,
) -> None:
    app = FastAPI(telemetry=FASTAPI_TELEMETRY_OFF)

    @app.post("/v1/traces")
    async def ingest(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/work")
    async def work() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/static/app.js")
    async def static_file() -> dict[str, bool]:
        return {"ok": True}

    registry = CollectorRegistry()
    settings = Settings(_env_file=None, trace_export=True, otel_exporter_otlp_endpoint=receiver.endpoint)
    provider = setup_telemetry(app, settings, "test", registry=registry)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        assert (await client.post("/v1/traces", content=b"x")).status_code == 200
        assert (await client.get("/static/app.js")).status_code == 200
        assert (await client.get("/work")).status_code == 200
    assert [span.name for span in memory.get_finished_spans()] == ["GET"]
    assert provider.force_flush(5_000)
    assert receiver.spans == ["GET"]
    assert registry.get_sample_value("mlsec_trace_spans_exported_total") == 1
    provider.shutdown()
