"""Once per (order, kind): duplicate and repeated events give one e-mail each; poison changes nothing."""

from __future__ import annotations

import json
from collections import Counter

from messaging import dlq
from messaging.events.orders import OrderRefunded
from messaging.events.payments import PaymentRefunded
from tests.support.events import order_created, paid, payment
from tests.support.notifier_live import to
from tests.support.waiting import eventually


async def test_duplicate_events_send_one_email_per_order_and_kind(stand, mailbox) -> None:
    created = order_created("eve@example.com")
    order_id = created.data.order_id
    order_paid = paid(order_id, email="eve@example.com")
    refunded = payment(PaymentRefunded, order_id, amount=4499, fully_refunded=True)
    data = created.data
    order_refunded = created.follow_up(
        OrderRefunded(
            order_id=order_id,
            status="refunded",
            email=data.email,
            total=4499,
            currency="eur",
            amount_refunded=4499,
        )
    )
    await stand.publish(created)
    await stand.publish(created)  # the same message twice (AMQP redelivery, relay repeat)
    await stand.publish(order_created("eve@example.com", order_id=order_id))  # same event, new message id
    await stand.publish(order_paid)
    await stand.publish(paid(order_id, email="eve@example.com"))  # orders' event again, new message id
    await stand.publish(refunded)
    await stand.publish(payment(PaymentRefunded, order_id, amount=4499, fully_refunded=True))
    await stand.publish(order_refunded)  # the same refund, seen by the orders service
    await mailbox.wait_for(to("eve@example.com"), count=3, timeout=10)
    rows = await stand.drain(consumed=8)
    received = Counter(m.message_id for m in mailbox.store.list())
    assert received == {
        f"<confirmation.{order_id}@paybus>": 1,
        f"<receipt.{order_id}@paybus>": 1,
        f"<refund.4499.{order_id}@paybus>": 1,
    }
    assert sorted((r["kind"], r["state"], r["attempts"]) for r in rows) == [
        ("confirmation", "sent", 1),
        ("receipt", "sent", 1),
        ("refund.4499", "sent", 1),
    ]


async def test_a_poison_message_is_parked_and_changes_nothing(stand, mailbox) -> None:
    meta = {"message_id": "poison-1", "type": "order.created", "correlation_id": "c-poison"}
    await stand.publisher.publish_raw(stand.prefix + "orders.events", "order.created", b"not json", meta)
    no_email = order_created().model_dump(mode="json")
    del no_email["data"]["email"]
    body = json.dumps(no_email).encode()
    exchange = stand.prefix + "orders.events"
    await stand.publisher.publish_raw(exchange, "order.created", body, meta | {"message_id": "p2"})
    parked = await _parked(stand, 2)
    assert {p.message_id for p in parked} == {"poison-1", "p2"}
    assert all(p.headers["x-error"].startswith("invalid body") for p in parked)
    assert "data.email" in next(p for p in parked if p.message_id == "p2").headers["x-error"]
    assert await stand.emails() == []
    assert mailbox.store.list() == []


async def _parked(stand, count: int):  # type: ignore[no-untyped-def]
    await eventually(lambda: stand.stats.dead_lettered >= count, timeout=10)
    return await dlq.show(stand.publisher, stand.prefix + "notifier.orders")
