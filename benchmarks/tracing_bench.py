"""What tracing costs: CPU per span, then `make bench`'s pipeline part under three settings, side by side.

`python -m benchmarks.tracing_bench`: first the CPU time (process time, so a busy neighbour matters
less than to wall-clock figures) of one request span with ten statement spans under each setting, as
runtime.tracing sets them up; then each round runs the whole pipeline once per setting (a fresh
system each time), in turn, so that a busy neighbour slows all three alike. Figures are medians of
`BENCH_RUNS` rounds (default 3), with each setting's ratio to `off`.

- off: `OTEL_SDK_DISABLED=true`, the SDK's own switch: no-op tracer, nothing made or propagated;
- propagate: the default, no `OTEL_EXPORTER_OTLP_ENDPOINT`: ids made and carried, nothing recorded;
- export: every process records and exports over OTLP/HTTP to a receiver in this process (standing
  in for Jaeger; its CPU counts in the bench's own part).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import SpanKind

from benchmarks import pipeline_bench
from benchmarks._support import RUNS, Figure, scratch_vhost, table
from messaging import runtime
from runtime.tracing import tracer_provider
from tests.support.otlp import running

SETTINGS = ("off", "propagate", "export")
COMPARED = (  # the pipeline's figures this bench compares
    "pipeline_settled_per_s",
    "pipeline_cpu_ms_per_payment_total",
    "pipeline_receipt_latency_p50_at_20_per_s",
    "pipeline_receipt_latency_p99_at_20_per_s",
)


@contextmanager
def setting(name: str, endpoint: str, **more: str) -> Iterator[None]:
    """The environment the system's processes inherit for one setting."""
    variables = {
        "off": {"OTEL_SDK_DISABLED": "true"},
        "propagate": {},
        "export": {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, **more},
    }[name]
    saved = {k: os.environ.get(k) for k in ("OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", *more)}
    for key in saved:
        os.environ.pop(key, None)
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


@contextmanager
def receiver() -> Iterator[str]:
    """An OTLP receiver in a process of its own: its parsing is not the spans' cost."""
    code = (
        "import sys\nfrom tests.support.otlp import running\n"
        "with running() as c:\n    print(c.url, flush=True)\n    sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(10)


def span_cpu_us(name: str, endpoint: str, traces: int = 2000) -> float:
    """CPU microseconds per span (exporting thread included) under a setting, as runtime sets it up;
    the export queue holds them all, so none is dropped uncounted."""
    with setting(name, endpoint, OTEL_BSP_MAX_QUEUE_SIZE=str(traces * 11)):
        provider = tracer_provider("bench", "spans")
    tracer = provider.get_tracer("bench")
    statement = {"db.system": "postgresql", "db.statement": "UPDATE orders SET status = $2 WHERE id = $1"}
    start = time.process_time()
    for _ in range(traces):
        with tracer.start_as_current_span("POST /webhook", kind=SpanKind.SERVER):
            for _ in range(10):
                with tracer.start_as_current_span("UPDATE", kind=SpanKind.CLIENT, attributes=statement):
                    pass
    provider.shutdown()  # the last batch exported, its CPU counted
    return (time.process_time() - start) / (traces * 11) * 1e6


async def main() -> int:
    cpu: dict[str, list[float]] = {name: [] for name in SETTINGS}
    with receiver() as endpoint:
        for _ in range(RUNS):
            for name in SETTINGS:
                cpu[name].append(span_cpu_us(name, endpoint))
    figures = [Figure(f"tracing_{n}:span_cpu_us", statistics.median(v), "us", v) for n, v in cpu.items()]
    figures += await pipeline()
    for result in figures:
        print(result.line(), flush=True)
    print(table(figures))
    return 0


async def pipeline() -> list[Figure]:
    pipeline_bench.RUNS = 1  # type: ignore[attr-defined]  # one round per setting at a time: rounds are ours
    seen: dict[str, dict[str, list[float]]] = {s: {f: [] for f in COMPARED} for s in SETTINGS}
    spans_per_payment: list[float] = []
    with running() as collector:
        async with scratch_vhost() as url:
            for n in range(RUNS):
                for name in SETTINGS:
                    before = len(collector.spans)
                    with setting(name, collector.url):
                        figures = {f.name: f.value for f in await pipeline_bench.run(url)}
                    for figure in COMPARED:
                        seen[name][figure].append(figures[figure])
                    if name == "export":
                        payments = pipeline_bench.THROUGHPUT_N + 2 * pipeline_bench.LATENCY_N
                        spans_per_payment.append((len(collector.spans) - before) / payments)
                    print(f"round {n + 1} {name}: {figures['pipeline_settled_per_s']:.1f}/s", flush=True)
    out: list[Figure] = []
    for figure in COMPARED:
        base = statistics.median(seen["off"][figure])
        for name in SETTINGS:
            median = statistics.median(seen[name][figure])
            out.append(Figure(f"tracing_{name}:{figure}", median, "", seen[name][figure]))
            if name != "off":
                out.append(Figure(f"tracing_{name}_vs_off:{figure}", median / base, "x", []))
    out.append(
        Figure(
            "tracing_export:spans_per_payment",
            statistics.median(spans_per_payment),
            "spans",
            spans_per_payment,
        )
    )
    return out


if __name__ == "__main__":
    sys.exit(runtime.run(main()))
