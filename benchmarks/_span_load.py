"""Load side of the tracing benchmark: OTLP/HTTP protobuf batches of spans, sent from a process of its own.

Run as `python -m benchmarks._span_load URL SPANS BATCH CONCURRENCY OUT.json`. A separate process, so that building
and sending the batches never shares a GIL with the receiver it measures. Each batch holds whole traces shaped
like the platform's own predictions (gateway request -> model cache request -> mlsec.predict -> model.predict and
prediction_log.record), with the attributes the services set, 1% of them failed; ids are random. Writes what was
sent, accepted and refused, and the wall time, to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

SPANS_PER_TRACE = 5
SERVICES = ("gateway", "model-cache")
PROTOBUF = "application/x-protobuf"
ERROR_SHARE = 0.01
MODELS = ("prompt-injection-detector", "toxicity", "pii-leak")
SEED = 20261206


def _attribute(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def _span(trace_id: bytes, parent: bytes | None, name: str, kind: Any, start: int, duration: int) -> Span:
    span = Span(
        trace_id=trace_id, span_id=secrets.token_bytes(8), name=name, kind=kind,
        start_time_unix_nano=start, end_time_unix_nano=start + duration,
    )  # fmt: skip
    if parent is not None:
        span.parent_span_id = parent
    return span


def _trace(rng: random.Random, now_ns: int) -> dict[str, list[Span]]:
    """One prediction's five spans, by the service that records them."""
    trace_id = secrets.token_bytes(16)
    start = now_ns - rng.randrange(0, 60_000_000_000)
    total = rng.randrange(1_000_000, 40_000_000)
    failed = rng.random() < ERROR_SHARE
    model = rng.choice(MODELS)
    route = rng.choice(("/predict", "/predict/batch"))
    root = _span(trace_id, None, f"POST {route}", Span.SPAN_KIND_SERVER, start, total)
    root.attributes.extend(
        [_attribute("http.request.method", "POST"), _attribute("http.route", route),
         _attribute("http.response.status_code", 500 if failed else 200)]
    )  # fmt: skip
    served = _span(trace_id, root.span_id, f"POST {route}", Span.SPAN_KIND_SERVER, start + 300_000, total - 600_000)
    served.attributes.extend([_attribute("http.route", route), _attribute("http.response.status_code", 200)])
    predict = _span(trace_id, served.span_id, "mlsec.predict", Span.SPAN_KIND_INTERNAL, start + 400_000, total // 2)
    predict.attributes.extend(
        [_attribute("mlsec.model.name", model), _attribute("mlsec.model.version", str(rng.randrange(1, 6))),
         _attribute("mlsec.model.alias", "champion"), _attribute("mlsec.traffic_class", "production"),
         _attribute("mlsec.batch_size", 1), _attribute("mlsec.prediction.label", rng.choice(("0", "1")))]
    )  # fmt: skip
    model_span = _span(trace_id, predict.span_id, "model.predict", Span.SPAN_KIND_INTERNAL, start + 450_000, total // 4)
    log_span = _span(trace_id, predict.span_id, "prediction_log.record", Span.SPAN_KIND_INTERNAL,
                     start + 450_000 + total // 4, 200_000)  # fmt: skip
    if failed:
        root.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="upstream failed"))
        root.attributes.append(_attribute("error.type", "500"))
    return {"gateway": [root], "model-cache": [served, predict, model_span, log_span]}


def build_batch(rng: random.Random, spans: int) -> bytes:
    """An `ExportTraceServiceRequest` of `spans` spans (whole traces), one resource per service, serialised."""
    by_service: dict[str, list[Span]] = {service: [] for service in SERVICES}
    now_ns = time.time_ns()
    for _ in range(max(1, spans // SPANS_PER_TRACE)):
        for service, found in _trace(rng, now_ns).items():
            by_service[service].extend(found)
    request = ExportTraceServiceRequest()
    for service, found in by_service.items():
        resource_spans: ResourceSpans = request.resource_spans.add()
        resource_spans.resource.attributes.append(_attribute("service.name", service))
        resource_spans.scope_spans.add().spans.extend(found)
    return bytes(request.SerializeToString())


async def send(url: str, total_spans: int, batch: int, concurrency: int) -> dict[str, float]:
    """Send `total_spans` in batches of `batch` over `concurrency` keep-alive connections; count the answers."""
    rng = random.Random(SEED)
    batches = total_spans // batch
    counts = {"accepted": 0, "refused": 0, "retried": 0}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(batches):
        queue.put_nowait(index)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            body = build_batch(rng, batch)
            while True:
                answer = await client.post(url, content=body, headers={"Content-Type": PROTOBUF})
                if answer.status_code in (429, 503):  # saturated: back off as an OTLP exporter does
                    counts["retried"] += 1
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                counts["accepted" if answer.status_code == 200 else "refused"] += batch
                break

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {**counts, "seconds": elapsed, "spans_per_second": counts["accepted"] / elapsed}


def main(argv: list[str]) -> int:
    url, spans, batch, concurrency, out = argv[1], int(argv[2]), int(argv[3]), int(argv[4]), Path(argv[5])
    out.write_text(json.dumps(asyncio.run(send(url, spans, batch, concurrency))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
