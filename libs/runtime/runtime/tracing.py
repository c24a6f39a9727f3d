"""runtime: traces, set up once per process: W3C context into and out of every request and message.

One payment is one trace: the gateway's request span is its root; httpx carries `traceparent` to the
internal APIs; the outbox stores the context with each row and the relay restores it (messaging);
aio-pika's instrumentation writes it into every message's headers and opens a CONSUMER span per
delivery; asyncpg's adds a span per statement. Spans are exported over OTLP/HTTP when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set (the SDK's other `OTEL_*` variables apply). Unset, ids are still
made and propagated (every message carries `traceparent`, every log line its `trace_id`), but spans
are not recorded: the sampler says no at the root, so instrumented code gets non-recording spans.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

__all__ = ["ENDPOINT", "configure_tracing", "instrument_api", "instrument_libraries", "tracer_provider"]

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
UNTRACED_ROUTES = "/healthz,/readyz,/metrics"  # probes and scrapes would bury the payments
# Seconds one export may take, retries included, unless OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT says: the
# SDK's 10 s made every process wait that long at exit while the trace backend was away.
EXPORT_TIMEOUT = 3.0
_TIMEOUT_VARIABLES = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")


class RequestsAndMessages(Sampler):
    """Records every trace that starts at a request or a message; drops one a bare client call starts.

    With no parent, a CLIENT span is a relay's poll, a LISTEN, a readiness probe's query or a
    scheduled sweep's Stripe call: one root trace per second per worker, about no payment.
    """

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP, None, trace_state)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)

    def get_description(self) -> str:
        return "RequestsAndMessages"


def _endpoint(environ: Mapping[str, str]) -> str | None:
    value = environ.get(ENDPOINT, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{ENDPOINT} must be an http(s) URL such as http://jaeger:4318, not {value!r}")
    return value.rstrip("/")


def tracer_provider(
    service: str,
    process: str,
    *,
    environ: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """The process's provider: OTLP when the endpoint is set, `exporter` (tests) when given, else none.

    Raises ValueError for an endpoint that is not an http(s) URL, before anything is set up.
    """
    environ = os.environ if environ is None else environ
    endpoint = _endpoint(environ)
    recording = exporter is not None or endpoint is not None
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"{service}-{process}", "service.namespace": "paybus"}),
        sampler=ParentBased(RequestsAndMessages() if recording else ALWAYS_OFF),
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif endpoint is not None:  # OTLP over HTTP/protobuf: Jaeger, Tempo and the collector take it on 4318
        timeout = (
            None if any(v in environ for v in _TIMEOUT_VARIABLES) else EXPORT_TIMEOUT
        )  # None: the SDK reads it
        exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=timeout)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def configure_tracing(
    service: str,
    process: str,
    *,
    environ: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Install the provider and instrument the libraries; once per process."""
    provider = tracer_provider(service, process, environ=environ, exporter=exporter)
    trace.set_tracer_provider(provider)
    instrument_libraries(provider)
    return provider


def instrument_libraries(provider: TracerProvider) -> None:
    """aio-pika (PRODUCER span per publish, writing `traceparent` into the message's headers; CONSUMER
    span per delivery, continuing it), asyncpg (a span per statement) and httpx (a CLIENT span per
    request, sending `traceparent`): process-wide, for every connection and client."""
    asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]  # its __init__ has no annotations
    for instrumentor in (AioPikaInstrumentor(), asyncpg, HTTPXClientInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)


def instrument_api(app: FastAPI, provider: TracerProvider | None = None) -> FastAPI:
    """A SERVER span per request, continuing the caller's `traceparent`; probes and scrapes untraced."""
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED_ROUTES,
        exclude_spans=["receive", "send"],  # one span per ASGI message would double the tree
    )
    return app
