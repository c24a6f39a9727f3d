"""One trace from the transaction that writes an outbox row to every consumer, a retry included."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from messaging.db import create_pool
from messaging.event import Envelope
from messaging.migrations import LIBRARY, migrate
from messaging.outbox import Relay, add_to_outbox
from tests.support import tracing
from tests.support.outbox_live import EFFECTS, TOPOLOGY, PaymentNoted
from tests.support.tracing import Span, ancestors, finished, render, tracer
from tests.support.waiting import eventually

traced = tracing.traced  # the fixture


def _kinds(chain: list[Span]) -> list[str]:
    return [s.kind for s in chain]


async def test_a_message_continues_the_trace_that_wrote_its_row_through_a_retry_and_a_follow_up(
    traced, pool, make_broker, prefix
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    failures_left = 1
    follow_up_seen = asyncio.Event()

    async def handler(msg: Envelope[PaymentNoted], deps: None) -> None:
        nonlocal failures_left
        if msg.data.n == 2:
            follow_up_seen.set()
            return
        if failures_left:
            failures_left -= 1
            raise RuntimeError("SMTP answered 451: try again later")
        async with pool.acquire() as conn, conn.transaction():  # orders' apply: a row in its own outbox
            await add_to_outbox(conn, msg.follow_up(PaymentNoted(n=2)))

    with tracer().start_as_current_span("POST /payment/webhook/", kind=SpanKind.SERVER) as request:
        async with pool.acquire() as conn, conn.transaction():
            await add_to_outbox(conn, Envelope.wrap(PaymentNoted(n=1)))
    context = request.get_span_context()
    stored = json.loads(await pool.fetchval("SELECT trace_context FROM outbox"))
    trace_id, span_id = trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)
    version, stored_trace, parent, flags = stored["traceparent"].split("-")
    assert (version, stored_trace, parent, int(flags, 16) & 1) == ("00", trace_id, span_id, 1)  # sampled

    relay = Relay(pool, broker, poll_interval=0.1)  # its polls run in no trace: their spans are dropped
    relaying = asyncio.create_task(relay.run())
    try:
        async with broker.consumer(EFFECTS, {PaymentNoted: handler}, None):
            await eventually(follow_up_seen.is_set)
            await eventually(lambda: sum(s.kind == "CONSUMER" for s in finished(traced)) == 3)
    finally:
        relaying.cancel()
        await asyncio.gather(relaying, return_exceptions=True)

    spans = finished(traced)
    tree = render(spans)
    assert {s.trace_id for s in spans} == {trace_id}, tree  # one trace, and nothing else recorded
    first, second, follow_up = sorted((s for s in spans if s.kind == "CONSUMER"), key=lambda s: s.start)
    assert (first.attributes["paybus.attempt"], first.error, first.attributes["paybus.outcome"]) == (
        1,
        True,
        "retry",
    ), tree
    assert (second.attributes["paybus.attempt"], second.error) == (2, False), tree
    assert first.name == second.name == f"{prefix}ob.effects process", tree
    # The parent chain, unbroken: each delivery's parent is the publish that sent it.
    assert _kinds(ancestors(spans, first)) == ["PRODUCER", "SERVER"], tree
    assert ancestors(spans, first)[-1].span_id == span_id, tree
    assert _kinds(ancestors(spans, second)) == ["PRODUCER", "CONSUMER", "PRODUCER", "SERVER"], tree
    assert ancestors(spans, second)[1] == first, tree  # the retry was published by the failed delivery
    assert _kinds(ancestors(spans, follow_up)) == [
        *("PRODUCER", "CONSUMER", "PRODUCER", "CONSUMER", "PRODUCER", "SERVER")
    ], tree
    assert ancestors(spans, follow_up)[1] == second, tree  # its outbox row was written by the delivery
    # The delivery that wrote the follow-up shows its statements (asyncpg) under its span.
    statements = [s for s in spans if s.parent_id == second.span_id and s.kind == "CLIENT"]
    assert any("INSERT INTO outbox" in str(s.attributes.get("db.statement", "")) for s in statements), tree


async def test_a_database_from_before_trace_context_is_upgraded_and_its_unsent_rows_still_relayed(
    traced, postgres, make_broker, prefix, tmp_path
) -> None:
    dsn = await postgres.create(f"_trc_{uuid.uuid4().hex[:6]}")
    (tmp_path / "0001_outbox_inbox.sql").write_text((LIBRARY / "0001_outbox_inbox.sql").read_text())
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, ("messaging", tmp_path))  # the library as it was before 0002
        old = Envelope.wrap(PaymentNoted(n=7))
        await conn.execute(
            "INSERT INTO outbox (message_id, type, correlation_id, occurred_at, body) "
            "VALUES ($1, $2, $3, $4, $5)",
            old.id, old.type, old.correlation_id, old.occurred_at, old.model_dump_json().encode(),
        )  # fmt: skip
        upgraded = await migrate(conn, ("messaging", LIBRARY))
        assert upgraded == ["messaging:0002_outbox_trace_context", "messaging:0003_scheduled_tasks"]
        assert await conn.fetchval("SELECT trace_context FROM outbox") is None
    finally:
        await conn.close()
    pool = await create_pool(dsn, min_size=1, max_size=2)
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    seen: list[Envelope[PaymentNoted]] = []

    async def handler(msg: Envelope[PaymentNoted], deps: None) -> None:
        seen.append(msg)

    try:
        async with broker.consumer(EFFECTS, {PaymentNoted: handler}, None):
            assert await Relay(pool, broker).relay_once() == 1
            await eventually(lambda: len(seen) == 1)
            await eventually(lambda: any(s.kind == "CONSUMER" for s in finished(traced)))
    finally:
        await pool.close()
    assert seen[0].id == old.id
    spans = finished(traced)  # no stored context: the publish starts a trace, the delivery continues it
    (publish,) = [s for s in spans if s.kind == "PRODUCER"]
    (delivery,) = [s for s in spans if s.kind == "CONSUMER"]
    assert (publish.parent_id, delivery.parent_id, delivery.trace_id) == (
        None,
        publish.span_id,
        publish.trace_id,
    )
