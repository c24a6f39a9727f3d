"""In-process traces for tests: runtime's provider with an in-memory exporter, and the tree it recorded.

A process has one global tracer provider: it is installed once per test session; the library
instrumentations are switched on only for the tests that ask (`traced`), so other tests' messages
carry no `traceparent` they do not expect.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime.tracing import instrument_libraries, tracer_provider

_EXPORTER = InMemorySpanExporter()
_PROVIDER: TracerProvider | None = None


def _provider() -> TracerProvider:
    global _PROVIDER
    if _PROVIDER is None:
        _PROVIDER = tracer_provider("tests", "pytest", environ={}, exporter=_EXPORTER)
        trace.set_tracer_provider(_PROVIDER)
    return _PROVIDER


def uninstrument() -> None:
    """Undo runtime's process-wide instrumentation (a test that ran `runtime.main` installed it)."""
    for instrumentor in (AioPikaInstrumentor(), AsyncPGInstrumentor(), HTTPXClientInstrumentor()):  # type: ignore[no-untyped-call]
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


@pytest.fixture
def traced() -> Iterator[InMemorySpanExporter]:
    """The libraries instrumented for this test; the spans it finished, in the exporter it yields."""
    uninstrument()  # whoever instrumented before did it with their provider
    instrument_libraries(_provider())
    _EXPORTER.clear()
    try:
        yield _EXPORTER
    finally:
        uninstrument()
        _EXPORTER.clear()


def tracer() -> trace.Tracer:
    return _provider().get_tracer("tests")


@dataclass(frozen=True)
class Span:
    """One finished span, from the in-memory exporter or from OTLP (the e2e collector)."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str  # SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL
    service: str
    start: int  # ns
    error: bool
    attributes: dict[str, object] = field(default_factory=dict)


def finished(exporter: InMemorySpanExporter) -> list[Span]:
    return [
        Span(
            trace.format_trace_id(s.context.trace_id),
            trace.format_span_id(s.context.span_id),
            trace.format_span_id(s.parent.span_id) if s.parent is not None else None,
            s.name,
            s.kind.name,
            str(s.resource.attributes.get("service.name", "?")),
            s.start_time or 0,
            s.status.status_code is trace.StatusCode.ERROR,
            dict(s.attributes or {}),
        )
        for s in exporter.get_finished_spans()
    ]


def render(spans: Sequence[Span]) -> str:
    """The tree as text, children in start order: `name [kind] service`, indented under the parent."""
    ids = {s.span_id for s in spans}
    by_parent: dict[str | None, list[Span]] = {}
    for span in sorted(spans, key=lambda s: s.start):
        by_parent.setdefault(span.parent_id if span.parent_id in ids else None, []).append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in by_parent.get(parent, []):
            error = " ERROR" if span.error else ""
            lines.append(f"{'  ' * depth}{span.name} [{span.kind}] {span.service}{error}")
            walk(span.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def ancestors(spans: Sequence[Span], span: Span) -> list[Span]:
    """The chain from `span`'s parent up to the root; raises if a parent is missing (a broken chain)."""
    by_id = {s.span_id: s for s in spans}
    chain: list[Span] = []
    while span.parent_id is not None:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain
