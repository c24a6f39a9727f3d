"""Builders of the messages the orders service consumes, for unit and integration tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from messaging.event import Envelope
from messaging.events.payments import (
    PaymentExpired,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentSucceeded,
)
from orders.messages import PaymentDeadlineReached

KINDS = ("succeeded", "failed", "expired", "refunded", "deadline")


def payment_event(
    kind: str, order_id: UUID, *, amount: int = 2900, session: str = "cs_test_1"
) -> Envelope[Any]:
    """A payment event (or the deadline check) for an order, as the payments service would send it."""
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
    elif kind == "deadline":
        event = PaymentDeadlineReached(order_id=order_id)
    else:
        raise ValueError(kind)
    return Envelope.wrap(event, correlation_id=str(order_id))
