"""A real OTLP/HTTP trace receiver on a local port, for the tests of span export: it decodes the protobuf it
gets, and can stop and start again on the same port (the tracing service going down and coming back)."""

from __future__ import annotations

import http.server
import threading
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.platform_support import free_ports


class Receiver:
    """An OTLP/HTTP trace receiver on a local port that counts the spans it got, and can be stopped and
    started again on the same port (the tracing service going down and coming back)."""

    def __init__(self) -> None:
        self.port = free_ports(1)[0]
        self.spans: list[str] = []
        self.requests = 0
        self.server: http.server.ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/traces"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                receiver.requests += 1
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        receiver.spans.extend(span.name for span in scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
