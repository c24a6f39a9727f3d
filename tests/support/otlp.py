"""A tiny OTLP/HTTP trace receiver for tests that run the services as processes (tests/e2e).

An in-memory exporter sees only its own process; the services export to this one over the real
protocol (POST /v1/traces, protobuf, as to Jaeger's port 4318), and it keeps what it parsed.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from tests.support.tracing import Span


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return (
        getattr(value, kind) if kind in ("string_value", "int_value", "bool_value", "double_value") else None
    )


def spans_of(request: ExportTraceServiceRequest) -> list[Span]:
    out = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(
                    Span(
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex() or None,
                        span.name,
                        OtlpSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        str(resource.get("service.name", "?")),
                        span.start_time_unix_nano,
                        span.status.code == Status.STATUS_CODE_ERROR,
                        {a.key: _value(a.value) for a in span.attributes},
                    )
                )
    return out


class Collector:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def snapshot(self) -> list[Span]:
        with self._lock:
            return list(self.spans)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                spans = spans_of(ExportTraceServiceRequest.FromString(body))
                with collector._lock:
                    collector.spans.extend(spans)
                    collector.requests += 1
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:  # no line per export
                pass

        return Handler


@contextmanager
def running() -> Iterator[Collector]:
    collector = Collector()
    thread = threading.Thread(target=collector._server.serve_forever, name="otlp-collector", daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        collector._server.shutdown()
        collector._server.server_close()
        thread.join(5)
