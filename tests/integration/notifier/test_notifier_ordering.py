"""Order events carry the order: order.paid ahead of order.created sends the receipt at once (no retry,
no join that waits on message order), and the late order.created still sends its confirmation once."""

from __future__ import annotations

from collections import Counter

from tests.support.events import order_created, paid
from tests.support.notifier_live import to


async def test_order_paid_before_order_created_sends_both_once_without_a_retry(stand, mailbox) -> None:
    created = order_created("early@example.com")
    order_id = created.data.order_id
    await stand.publish(paid(order_id, email="early@example.com"))
    [receipt] = await mailbox.wait_for(to("early@example.com"), count=1, timeout=10)
    assert [a.content_type for a in receipt.attachments] == ["application/pdf"]
    await stand.publish(created)
    await mailbox.wait_for(to("early@example.com"), count=2, timeout=10)
    rows = await stand.drain(consumed=2)
    assert Counter(m.message_id for m in mailbox.store.list()) == {
        f"<confirmation.{order_id}@paybus>": 1,
        f"<receipt.{order_id}@paybus>": 1,
    }
    assert {(r["kind"], r["state"]) for r in rows} == {("confirmation", "sent"), ("receipt", "sent")}
    assert (stand.stats.retried, stand.stats.dead_lettered) == (0, 0)
