"""Issue 15: the customer is e-mailed once per refund news: a second payment refunded, a refund that
failed or was canceled; copies of the events send nothing more, and the projection follows orders'
one move back (order.refund_reversed)."""

from __future__ import annotations

import asyncpg

from messaging.events.orders import OrderPaid, OrderRefunded, OrderRefundReversed
from messaging.events.payments import PaymentDuplicateRefunded, PaymentRefunded, PaymentRefundReversed
from messaging.settings import service_database_dsn
from tests.support.events import order_created, order_event, payment
from tests.support.notifier_live import to


async def test_each_refund_state_change_is_mailed_once(stand, mailbox) -> None:
    created = order_created("eve@example.com")
    order_id = created.data.order_id
    ref = str(order_id)[:8].upper()
    duplicate = payment(
        PaymentDuplicateRefunded,
        order_id,
        checkout_session_id="cs_second",
        refund_id="re_dup",
        refund_status="succeeded",
        paid_by_checkout_session_id="cs_test_1",
    )
    refunded = payment(PaymentRefunded, order_id, fully_refunded=True)
    failed = payment(
        PaymentRefundReversed,
        order_id,
        amount=0,
        amount_reversed=4499,
        refund_id="re_1",
        refund_amount=4499,
        refund_status="failed",
        failure_reason="expired_or_canceled_card",
    )
    second_canceled = payment(
        PaymentRefundReversed,
        order_id,
        checkout_session_id="cs_second",
        amount=0,
        amount_reversed=4499,
        refund_id="re_dup",
        refund_amount=4499,
        refund_status="canceled",
        second_payment=True,
    )
    await stand.publish(created)
    await mailbox.wait_for(to("eve@example.com"), count=1, timeout=10)
    for message in (duplicate, refunded, failed, second_canceled):
        await stand.publish(message)
        await stand.publish(message)  # a copy: the inbox absorbs it, the e-mail row is sent already
    await mailbox.wait_for(to("eve@example.com"), count=5, timeout=15)
    rows = await stand.drain(consumed=9)
    mails = [m for m in mailbox.store.list() if to("eve@example.com")(m)]

    by_subject = {m.subject: m for m in mails}
    assert set(by_subject) == {
        f"We received your order {ref}",
        f"Your second payment for order {ref} was refunded",
        f"Refund issued for order {ref}",
        f"Refund for order {ref} did not go through",
    }
    assert sorted(r["kind"] for r in rows) == sorted(
        [
            "confirmation",
            "duplicate_refund.cs_second",
            "refund.4499",
            "refund_reversed.re_1",
            "duplicate_refund_failed.re_dup",
        ]
    )
    assert {r["state"] for r in rows} == {"sent"}
    assert len(mails) == 5  # the copies sent nothing
    texts = sorted(m.text for m in mails if m.subject == f"Refund for order {ref} did not go through")
    assert len(texts) == 2
    [order_refund] = [t for t in texts if "the refund failed (expired or canceled card)" in t]
    [second_refund] = [t for t in texts if "the refund was canceled" in t]
    assert f"the refund of €44.99 for your order {ref}" in order_refund
    assert "counts as paid" in order_refund
    assert "the refund of your second payment of €44.99" in second_refund
    assert "stays paid" in second_refund
    second = by_subject[f"Your second payment for order {ref} was refunded"]
    assert "second payment of €44.99" in second.text
    assert "stays paid" in second.text


async def test_the_projection_follows_a_refund_reversed_back_to_paid_whatever_the_order(stand) -> None:
    created = order_created("fay@example.com")
    paid_ = order_event(OrderPaid, created, "paid")
    refunded = order_event(OrderRefunded, created, "refunded", amount_refunded=4499)
    reversed_ = order_event(OrderRefundReversed, created, "paid", amount_refunded=0, refund_reversals=1)
    # the reversal overtakes the refund it reverses; the late order.refunded (0 reversals) is older news
    for message in (created, reversed_, paid_, refunded):
        await stand.publish(message)
    await stand.drain(consumed=4)

    conn = await asyncpg.connect(service_database_dsn(stand.worker.settings.database_url, "notifier"))
    try:
        row = await conn.fetchrow(
            "SELECT status, refund_reversals FROM orders WHERE order_id = $1", created.data.order_id
        )
    finally:
        await conn.close()
    assert tuple(row) == ("paid", 1)
