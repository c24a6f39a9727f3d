"""runtime's tracing setup: what is recorded, what is only propagated, and what a bad endpoint says."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from runtime.logs import JsonFormatter
from runtime.tracing import tracer_provider


def test_without_an_endpoint_nothing_is_recorded_but_every_id_is_made_and_propagated() -> None:
    provider = tracer_provider("payments", "api", environ={})
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("POST /payment/webhook/", kind=SpanKind.SERVER) as span:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
    assert not span.is_recording()
    context = span.get_span_context()
    assert context.is_valid
    assert not context.trace_flags.sampled
    assert carrier["traceparent"].split("-")[1] == trace.format_trace_id(context.trace_id)
    # the next process continues the same trace id, also unrecorded
    downstream = tracer_provider("orders", "worker", environ={}).get_tracer("t")
    with downstream.start_as_current_span(
        "orders.payments process", context=propagate.extract(carrier)
    ) as child:
        assert child.get_span_context().trace_id == context.trace_id
        assert not child.is_recording()


def test_spans_start_at_requests_and_messages_not_at_a_bare_database_or_http_call() -> None:
    exporter = InMemorySpanExporter()
    tracer = tracer_provider("orders", "worker", environ={}, exporter=exporter).get_tracer("t")
    with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as poll:  # a relay's poll
        assert not poll.is_recording()
    with (
        tracer.start_as_current_span("orders.payments process", kind=SpanKind.CONSUMER),
        tracer.start_as_current_span("INSERT", kind=SpanKind.CLIENT) as statement,
    ):
        assert statement.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["INSERT", "orders.payments process"]


def _exporter(provider):
    (processor,) = provider._active_span_processor._span_processors  # the SDK keeps no public list
    return processor._batch_processor._exporter


def test_with_an_endpoint_spans_go_to_its_otlp_traces_path_within_3_s_an_export() -> None:
    provider = tracer_provider(
        "gateway", "api", environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318/"}
    )
    try:
        exporter = _exporter(provider)
        assert (exporter._endpoint, exporter._client._timeout) == ("http://jaeger:4318/v1/traces", 3.0)
        assert provider.resource.attributes["service.name"] == "gateway-api"
    finally:
        provider.shutdown()


def test_the_sdks_own_export_timeout_variable_wins(monkeypatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "12")
    provider = tracer_provider("gateway", "api")
    try:
        assert _exporter(provider)._client._timeout == 12.0
    finally:
        provider.shutdown()


@pytest.mark.parametrize("endpoint", ["jaeger:4318", "ftp://jaeger:4318", "http://", "4318"])
def test_an_endpoint_that_is_no_http_url_is_refused_with_its_name(endpoint: str) -> None:
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_ENDPOINT must be an http\\(s\\) URL") as info:
        tracer_provider("gateway", "api", environ={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    assert repr(endpoint) in str(info.value)


def test_a_json_log_line_names_the_trace_and_span_it_was_logged_in() -> None:
    tracer = tracer_provider("notifier", "worker", environ={}).get_tracer("t")
    record = logging.LogRecord("notifier.sending", logging.INFO, __file__, 1, "sent", (), None)
    formatter = JsonFormatter("notifier", "worker")
    assert "trace_id" not in json.loads(formatter.format(record))
    with tracer.start_as_current_span("notifier.orders process") as span:
        line = json.loads(formatter.format(record))
    context = span.get_span_context()
    assert line["trace_id"] == trace.format_trace_id(context.trace_id)
    assert line["span_id"] == trace.format_span_id(context.span_id)
