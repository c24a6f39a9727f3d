"""Builders of the messages the services consume, as their producers send them, for every test tier.

`payment_event` is what payments sends to orders (or orders' own deadline check); `order_created`,
`order_event` and `paid` are what orders sends to the notifier; `payment` any payments event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from messaging.event import Envelope
from messaging.events.orders import OrderCreated, OrderLine, OrderPaid
from messaging.events.payments import (
    PaymentDuplicateRefunded,
    PaymentExpired,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentRefundReversed,
    PaymentSucceeded,
)
from orders.messages import PaymentDeadlineReached

KINDS = ("succeeded", "failed", "expired", "refunded", "deadline")


def payment_event(
    kind: str, order_id: UUID, *, amount: int = 2900, session: str = "cs_test_1"
) -> Envelope[Any]:
    """A payment event (or the deadline check) for an order, as the payments service would send it.

    The refund kinds are one payment's history: `partially_refunded` (half), `refunded` (the other
    half: in full), `refund_failed` (that second half failed at Stripe), `refunded_again` (refunded
    once more: in full again)."""
    common = {
        "order_id": order_id,
        "stripe_event_id": f"evt_{uuid4().hex[:12]}",
        "checkout_session_id": session,
        "amount": amount,
        "currency": "eur",
        "payment_intent_id": f"pi_{session}",
    }
    event: Any
    if kind == "succeeded":
        event = PaymentSucceeded(**common)
    elif kind == "pending":
        event = PaymentPending(**common)
    elif kind == "failed":
        event = PaymentFailed(**common, reason="card_declined")
    elif kind == "expired":
        event = PaymentExpired(**common)
    elif kind == "refunded":
        event = PaymentRefunded(**common, amount_captured=amount, fully_refunded=True)
    elif kind == "partially_refunded":
        event = PaymentRefunded(**{**common, "amount": amount // 2}, amount_captured=amount)
    elif kind == "refund_failed":
        half = amount // 2
        event = PaymentRefundReversed(
            **{**common, "amount": amount - half},
            amount_reversed=half,
            refund_id="re_second_half",
            refund_amount=half,
            refund_status="failed",
            failure_reason="expired_or_canceled_card",
        )
    elif kind == "refunded_again":
        event = PaymentRefunded(
            **common, amount_captured=amount, fully_refunded=True, amount_reversed=amount // 2
        )
    elif kind == "duplicate_refunded":  # a second payment (session), refunded by payments
        event = PaymentDuplicateRefunded(
            **common,
            refund_id=f"re_{session}",
            refund_status="succeeded",
            paid_by_checkout_session_id="cs_test_1",
        )
    elif kind == "deadline":
        event = PaymentDeadlineReached(order_id=order_id)
    else:
        raise ValueError(kind)
    return Envelope.wrap(event, correlation_id=str(order_id))


LINES = (
    OrderLine(product_id="p-mug", name="Mug <b>", quantity=2, unit_price=1250, line_total=2500),
    OrderLine(product_id="p-book", name="Book & Co", quantity=1, unit_price=1999, line_total=1999),
)


def order_created(email: str = "bob@example.com", **overrides) -> Envelope[OrderCreated]:  # type: ignore[no-untyped-def]
    lines = LINES
    fields = {
        "order_id": uuid.uuid4(),
        "status": "pending",
        "email": email,
        "total": 4499,
        "currency": "eur",
        "lines": lines,
        "payment_deadline": datetime.now(UTC) + timedelta(hours=1),
    } | overrides
    return Envelope.wrap(OrderCreated(**fields), correlation_id=f"corr-{fields['order_id']}")


def order_event(model, created: Envelope[OrderCreated], status: str, **extra):  # type: ignore[no-untyped-def]
    """orders' event after `created`: the order as it is then, as every order event carries it."""
    data = created.data.model_dump(include={"order_id", "email", "total", "currency", "lines"})
    return created.follow_up(model(**data, status=status, **extra))


def payment(model, order_id: UUID, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "order_id": order_id,
        "stripe_event_id": f"evt_{uuid.uuid4().hex[:12]}",
        "checkout_session_id": "cs_test_1",
        "payment_intent_id": "pi_test_1",
        "amount": 4499,
        "currency": "eur",
    } | overrides
    return Envelope.wrap(model(**fields), correlation_id=f"corr-{order_id}")


def succeeded(order_id: UUID) -> Envelope[PaymentSucceeded]:
    return payment(PaymentSucceeded, order_id)


def paid(order_id: UUID, email: str = "bob@example.com", total: int = 4499) -> Envelope[OrderPaid]:
    """orders' order.paid: what the receipt follows."""
    event = OrderPaid(
        order_id=order_id,
        status="paid",
        email=email,
        total=total,
        currency="eur",
        lines=LINES,
        checkout_session_id="cs_test_1",
        payment_intent_id="pi_test_1",
        paid_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, correlation_id=f"corr-{order_id}")
