"""Pure rules: message ids, which e-mail an event asks for (money: tests/unit/money)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from messaging.events.orders import OrderStatus
from notifier import domain
from notifier.domain import Order

ORDER = Order(
    uuid.UUID(int=1),
    "bob@example.com",
    (),
    4499,
    "eur",
    OrderStatus.PENDING,
    datetime(2025, 1, 2, tzinfo=UTC),
)


def test_message_id_is_deterministic_per_order_and_kind() -> None:
    assert domain.message_id("receipt", ORDER.id) == f"<receipt.{ORDER.id}@paybus>"
    assert domain.receipt(ORDER, _payment()).message_id == domain.receipt(ORDER, _payment()).message_id
    assert domain.confirmation(ORDER, "http://x").message_id != domain.receipt(ORDER, _payment()).message_id


def test_payment_failed_mail_is_one_per_checkout_session_and_links_to_the_order_page() -> None:
    mail = domain.payment_failed(ORDER, "cs_1", "card declined", "http://shop")
    assert mail is not None
    assert mail.kind == "payment_failed.cs_1"
    assert mail.links["pay"] == f"http://shop/orders/{ORDER.id}"
    other = domain.payment_failed(ORDER, "cs_2", None, "http://shop")
    assert other is not None
    assert other.message_id != mail.message_id


def test_each_refund_is_keyed_by_the_gross_refunded_total() -> None:
    assert domain.refund(ORDER, 1000, 1000).kind == "refund.1000"
    assert domain.refund(ORDER, 1000, 1000).message_id == domain.refund(ORDER, 1000, 1000).message_id
    assert domain.refund(ORDER, 4499, 4499).message_id != domain.refund(ORDER, 1000, 1000).message_id
    # 1000 refunded, failed (net 0), refunded again: net 1000 again, a new e-mail all the same
    assert domain.refund(ORDER, 1000, 2000).kind == "refund.2000"


def test_a_second_payment_and_each_reversed_refund_get_one_email_each() -> None:
    assert domain.duplicate_refund(ORDER, "cs_2", 4499).kind == "duplicate_refund.cs_2"
    failed = domain.refund_reversed(ORDER, "re_1", 1000, "failed", "declined", second_payment=False)
    canceled = domain.refund_reversed(ORDER, "re_2", 1000, "canceled", None, second_payment=False)
    second = domain.refund_reversed(ORDER, "re_3", 4499, "failed", None, second_payment=True)
    assert (failed.kind, canceled.kind) == ("refund_reversed.re_1", "refund_reversed.re_2")
    assert second.kind == "duplicate_refund_failed.re_3"
    assert failed.reason == "the refund failed (declined)"
    assert canceled.reason == "the refund was canceled"


def test_order_ref_is_short_and_upper_case() -> None:
    assert ORDER.ref == "00000000"
    assert domain.canceled(ORDER, None, "http://s").subject == "Order 00000000 canceled"


def _payment() -> domain.Payment:
    return domain.Payment(4499, "eur", datetime(2025, 1, 3, 10, 30, tzinfo=UTC), "cs_1", "pi_1")
