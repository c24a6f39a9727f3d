"""A worker's /metrics (runtime.messaging_metrics) count what really happened on broker and database."""

from __future__ import annotations

import asyncio

from messaging.broker import Permanent
from messaging.event import Envelope
from messaging.outbox import Relay, add_to_outbox
from runtime.messaging_metrics import messaging_metrics
from tests.support.outbox_live import EFFECTS, TOPOLOGY, PaymentNoted
from tests.support.waiting import eventually


def _value(registry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_each_delivery_outcome_is_counted_by_queue_and_duplicates_by_inbox_consumer(
    pool, ledger, make_broker, prefix
) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    queue = prefix + EFFECTS.name
    registry, _ = messaging_metrics(broker, queues=[queue])
    assert _value(registry, "paybus_messages_delivered_total", queue=queue) == 0.0  # there before any message
    guarded = ledger.inbox.guard(pool, ledger.effect)
    failures = {"fail-then-ok": 1, "always": 99}

    async def handler(msg: Envelope[PaymentNoted], deps: object) -> None:
        key = msg.correlation_id
        if key == "permanent":
            raise Permanent("no use trying again")
        if failures.get(key, 0) > 0:
            failures[key] -= 1
            raise RuntimeError(f"boom {key}")
        await guarded(msg, deps)

    twice = Envelope.wrap(PaymentNoted(n=1))
    async with broker.consumer(EFFECTS, {PaymentNoted: handler}, None):
        await broker.publish(twice)
        await broker.publish(twice)  # the same message id again: the inbox absorbs it
        for key in ("fail-then-ok", "always", "permanent"):
            await broker.publish(Envelope.wrap(PaymentNoted(n=2), correlation_id=key))
        meta = {"message_id": "poison", "type": PaymentNoted.routing_key, "correlation_id": "c"}
        await broker.publish_raw(prefix + "ob.events", PaymentNoted.routing_key, b"not json", meta)
        acked = lambda: _value(registry, "paybus_messages_acked_total", queue=queue)  # noqa: E731
        await eventually(lambda: broker.stats.dead_lettered == 3 and acked() == 3.0, timeout=20)

    figures = {
        name: _value(registry, f"paybus_messages_{name}_total", queue=queue)
        for name in ("delivered", "acked", "retried", "ignored", "rejected")
    }
    # twice + twice + fail-then-ok (2 deliveries) + always (3: max_attempts) + permanent + poison
    assert figures == {"delivered": 9.0, "acked": 3.0, "retried": 3.0, "ignored": 0.0, "rejected": 0.0}
    parked = {
        reason: _value(registry, "paybus_messages_parked_total", queue=queue, reason=reason)
        for reason in ("failed", "permanent", "invalid", "refused")
    }
    assert parked == {"failed": 1.0, "permanent": 1.0, "invalid": 1.0, "refused": 0.0}
    assert _value(registry, "paybus_inbox_duplicates_total", consumer="ob.effects") == 1.0
    ok = _value(registry, "paybus_handler_duration_seconds_count", queue=queue, outcome="ok")
    failed = _value(registry, "paybus_handler_duration_seconds_count", queue=queue, outcome="failed")
    assert (ok, failed) == (3.0, 5.0)  # the poison body never reached a handler


async def test_outbox_backlog_and_relayed_types_are_exported(pool, make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    relay = Relay(pool, broker)
    registry, refresh = messaging_metrics(broker, relay)
    async with pool.acquire() as conn, conn.transaction():
        for n in range(3):
            await add_to_outbox(conn, Envelope.wrap(PaymentNoted(n=n)))
    await asyncio.sleep(0.05)  # the rows age a little

    await refresh()
    assert _value(registry, "paybus_outbox_unsent") == 3.0
    assert _value(registry, "paybus_outbox_lag_seconds") > 0.0

    assert await relay.relay_once() == 3
    await refresh()
    assert _value(registry, "paybus_outbox_unsent") == 0.0
    assert _value(registry, "paybus_outbox_lag_seconds") == 0.0
    assert _value(registry, "paybus_outbox_published_total", type=PaymentNoted.routing_key) == 3.0
    assert _value(registry, "paybus_messages_published_total") == 3.0
    assert _value(registry, "paybus_broker_ready") == 1.0
