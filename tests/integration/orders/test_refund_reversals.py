"""The orders worker on the real broker: a refund that failed restores the order (back to paid, the
refunded amount back down) once, and the refund of a second payment never touches it (issue 15)."""

from __future__ import annotations

from typing import Any

from orders import services
from orders.deps import Runtime
from orders.settings import Settings
from tests.support.events import payment_event
from tests.support.orders_live import Listener, publish_payment
from tests.support.refunds import ORDER_REFUND_REVERSED, order_refund_reversed
from tests.support.waiting import eventually


async def _row(runtime: Runtime, order_id: Any) -> tuple[Any, ...]:
    row = await runtime.pool.fetchrow(
        "SELECT status, refunded_amount, refund_reversed_amount, refund_reversals FROM orders WHERE id = $1",
        order_id,
    )
    return tuple(row)


async def test_a_failed_refund_puts_the_order_back_to_paid_with_its_amount_once(
    runtime: Runtime, settings: Settings, start_worker, listener: Listener
) -> None:
    order = await services.place_order(runtime.deps(settings), "ada@example.com", [("prod_coffee", 2)])
    worker = await start_worker(settings)
    failed = payment_event("refund_failed", order.id)
    for kind in ("succeeded", "partially_refunded", "refunded"):
        await publish_payment(runtime.broker, payment_event(kind, order.id))
    await eventually(lambda: listener.of("order.refunded", str(order.id)), timeout=15)
    for _ in range(2):  # the same message twice: one reversal
        await publish_payment(runtime.broker, failed)
    await eventually(lambda: worker.context.broker.stats.consumed == 5, timeout=15)
    (reversed_,) = await eventually(lambda: listener.of("order.refund_reversed", str(order.id)), timeout=15)

    assert await _row(runtime, order.id) == ("paid", 1450, 1450, 1)
    assert {k: reversed_["data"][k] for k in ORDER_REFUND_REVERSED} == order_refund_reversed(
        "re_second_half", 1450, still_refunded=1450
    )
    assert reversed_["causation_id"] == str(failed.id)
    count = "SELECT count(*) FROM outbox WHERE type = 'order.refund_reversed' AND correlation_id = $1"
    assert await runtime.pool.fetchval(count, str(order.id)) == 1

    await publish_payment(runtime.broker, payment_event("refunded_again", order.id))
    await eventually(lambda: len(listener.of("order.refunded", str(order.id))) == 2, timeout=15)
    assert await _row(runtime, order.id) == ("refunded", 2900, 1450, 1)
    assert listener.of("order.refunded", str(order.id))[1]["data"]["refund_reversals"] == 1


async def test_second_payment_refunds_and_their_failures_leave_the_order_alone(
    runtime: Runtime, settings: Settings, start_worker, listener: Listener
) -> None:
    order = await services.place_order(runtime.deps(settings), "ada@example.com", [("prod_coffee", 2)])
    worker = await start_worker(settings)
    await publish_payment(runtime.broker, payment_event("succeeded", order.id))
    await eventually(lambda: listener.of("order.paid", str(order.id)), timeout=15)
    second_failed = payment_event("refund_failed", order.id, session="cs_second")
    second_failed = second_failed.model_copy(
        update={"data": second_failed.data.model_copy(update={"second_payment": True})}
    )
    await publish_payment(runtime.broker, payment_event("duplicate_refunded", order.id, session="cs_second"))
    await publish_payment(runtime.broker, second_failed)
    claimed = "SELECT count(*) FROM inbox WHERE message_id = $1"

    async def handled() -> bool:  # claimed in the transaction of its (empty) effect
        return await runtime.pool.fetchval(claimed, str(second_failed.id)) == 1

    await eventually(handled, timeout=15)
    assert worker.context.broker.stats.consumed == 3

    assert await _row(runtime, order.id) == ("paid", 0, 0, 0)
    assert listener.of("order.refund_reversed", str(order.id)) == []
