"""A payment event that arrives before its order.created is retried, never dropped."""

from __future__ import annotations

from collections import Counter

from tests.conftest import eventually
from tests.unit.notifier.fakes import order_created, paid

from .conftest import to


async def test_a_payment_before_its_order_is_retried_then_the_receipt_is_sent_once(stand, mailbox) -> None:
    created = order_created("early@example.com")
    order_id = created.data.order_id
    await stand.publish(paid(order_id))
    await eventually(lambda: stand.stats.retried >= 1, timeout=10)
    assert await stand.emails() == []
    await stand.publish(created)
    mails = await mailbox.wait_for(to("early@example.com"), count=2, timeout=15)
    assert [m.attachments[0].content_type for m in mails if m.attachments] == ["application/pdf"]
    rows = await stand.drain(consumed=2 + stand.stats.retried)
    assert Counter(m.message_id for m in mailbox.store.list()) == {
        f"<confirmation.{order_id}@paybus>": 1,
        f"<receipt.{order_id}@paybus>": 1,
    }
    assert {(r["kind"], r["state"]) for r in rows} == {("confirmation", "sent"), ("receipt", "sent")}
    assert stand.stats.dead_lettered == 0
