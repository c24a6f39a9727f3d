"""Events the payments service publishes on `payments.events` and `payments.broadcast`."""

from typing import ClassVar
from uuid import UUID

from messaging.event import Event


class _PaymentEvent(Event):
    order_id: UUID
    stripe_event_id: str
    checkout_session_id: str
    amount: int  # minor units
    currency: str
    payment_intent_id: str | None = None


class PaymentSucceeded(_PaymentEvent):
    routing_key: ClassVar[str] = "payment.succeeded"


class PaymentPending(_PaymentEvent):
    """Checkout completed with a delayed method: not settled yet."""

    routing_key: ClassVar[str] = "payment.pending"


class PaymentFailed(_PaymentEvent):
    routing_key: ClassVar[str] = "payment.failed"
    reason: str | None = None


class PaymentExpired(_PaymentEvent):
    routing_key: ClassVar[str] = "payment.expired"


class PaymentRefunded(_PaymentEvent):
    """`amount` is what was refunded so far in total; `fully_refunded` tells a full refund."""

    routing_key: ClassVar[str] = "payment.refunded"
    amount_captured: int | None = None
    fully_refunded: bool = False
