"""Two consumers handling two events for one order at the same moment: the row lock serializes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from orders import services
from orders.deps import Runtime
from orders.handlers import PAYMENT_HANDLERS, on_payment_refunded, on_payment_succeeded
from orders.settings import Settings
from tests.support.events import payment_event
from tests.support.orders_live import TEST_TOPOLOGY, publish_payment
from tests.support.waiting import eventually

PER_ORDER = """
SELECT o.status,
       (SELECT count(*) FROM outbox WHERE correlation_id = o.id::text AND type = 'order.paid') AS paid,
       (SELECT count(*) FROM outbox WHERE correlation_id = o.id::text AND type = 'order.refunded') AS refunded
FROM orders o WHERE o.id = ANY($1::uuid[])"""
ORDERS = 12


@pytest_asyncio.fixture
async def second_runtime(settings: Settings, prefix: str) -> AsyncIterator[Runtime]:
    """Another process's pool and connection: a second replica of the worker."""
    opened = await Runtime.open(
        settings, "orders", name="test:orders-2", topology=TEST_TOPOLOGY, prefix=prefix
    )
    yield opened
    await opened.close()


async def _place(runtime: Runtime, settings: Settings) -> list:  # type: ignore[type-arg]
    deps = runtime.deps(settings)
    return [
        (await services.place_order(deps, f"c{i}@example.com", [("prod_coffee", 2)])).id
        for i in range(ORDERS)
    ]


async def test_two_consumers_on_one_queue_apply_succeeded_and_refunded_for_one_order_one_at_a_time(
    runtime: Runtime, second_runtime: Runtime, settings: Settings
) -> None:
    order_ids = await _place(runtime, settings)
    queue = TEST_TOPOLOGY.queue("orders.payments")
    consumers = [
        rt.broker.consumer(queue, PAYMENT_HANDLERS, rt.deps(settings), prefetch=4, name=f"c{n}")
        for n, rt in enumerate((runtime, second_runtime))
    ]
    for consumer in consumers:
        await consumer.start()
    try:
        for order_id in order_ids:  # back to back: the two land on different consumers
            await publish_payment(runtime.broker, payment_event("succeeded", order_id))
            await publish_payment(runtime.broker, payment_event("refunded", order_id))
        claimed = "SELECT count(*) FROM inbox WHERE consumer = 'orders.payments'"
        await eventually(lambda: _equals(runtime, claimed, 2 * ORDERS), timeout=30)
    finally:
        for consumer in consumers:
            await consumer.stop(grace=5)
    rows = await runtime.pool.fetch(PER_ORDER, order_ids)
    assert [tuple(r) for r in rows] == [("refunded", 1, 1)] * ORDERS
    assert min(runtime.broker.stats.consumed, second_runtime.broker.stats.consumed) > 0  # both took some


async def test_handlers_racing_on_one_order_through_two_pools_publish_exactly_one_order_paid(
    runtime: Runtime, second_runtime: Runtime, settings: Settings
) -> None:
    order_ids = await _place(runtime, settings)
    first, second = runtime.deps(settings), second_runtime.deps(settings)
    await asyncio.gather(
        *(on_payment_succeeded(payment_event("succeeded", oid), first) for oid in order_ids),
        *(on_payment_refunded(payment_event("refunded", oid), second) for oid in order_ids),
    )
    rows = await runtime.pool.fetch(PER_ORDER, order_ids)
    assert [tuple(r) for r in rows] == [("refunded", 1, 1)] * ORDERS


async def _equals(runtime: Runtime, query: str, expected: int) -> bool:
    return int(await runtime.pool.fetchval(query)) == expected
