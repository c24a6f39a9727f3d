"""Events the orders service publishes on `orders.events`, and the order's shared value types.

The orders service owns the order and its status. Every order event carries the order as it is now
(status, e-mail, lines, total), so a consumer keeps the projection it needs from any one of them,
whatever order they arrive in, and never joins it with another event. `OrderStatus` and `OrderLine` are
the one definition of those facts: the services read them from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from messaging.event import Event
from messaging.events.payments import PaymentMethod, Tax

__all__ = [
    "OrderCanceled",
    "OrderCreated",
    "OrderLine",
    "OrderPaid",
    "OrderPaymentFailed",
    "OrderPaymentParked",
    "OrderRefundReversed",
    "OrderRefunded",
    "OrderStatus",
    "newer",
    "payable",
]


class OrderStatus(StrEnum):
    """An order's status. It only moves to a higher `rank`: money that moved outranks our own
    housekeeping, so a late payment pays a canceled order (README, "Late payments")."""

    PENDING = "pending"
    PAYMENT_FAILED = "payment_failed"
    CANCELED = "canceled"
    PAID = "paid"
    REFUNDED = "refunded"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def unpaid(self) -> bool:
        """No payment has been applied: a customer may (still) pay it."""
        return self in (OrderStatus.PENDING, OrderStatus.PAYMENT_FAILED)


_RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.PAYMENT_FAILED: 1,
    OrderStatus.CANCELED: 2,
    OrderStatus.PAID: 3,
    OrderStatus.REFUNDED: 4,
}


def newer(status: OrderStatus, reversals: int, than: OrderStatus, than_reversals: int) -> bool:
    """Whether an order event's (status, refund_reversals) is later news than the one kept. Statuses
    only move to a higher rank, with one exception: a refund that failed or was canceled takes a
    refunded order back to paid, and counts up `refund_reversals`, which outranks every status."""
    return (reversals, status.rank) > (than_reversals, than.rank)


def payable(status: OrderStatus, deadline: datetime | None, now: datetime) -> bool:
    """Whether a customer may start paying the order now: unpaid, and before its payment deadline
    (a naive deadline is UTC, as everything orders stores)."""
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    return status.unpaid and (deadline is None or deadline > now)


class OrderLine(BaseModel):
    """One line of an order, priced by the orders service from its catalogue (minor units)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    product_id: str = Field(min_length=1)
    name: str
    quantity: int = Field(ge=1)
    unit_price: int = Field(ge=0)
    line_total: int = Field(ge=0)


class _OrderEvent(Event):
    """The order as it is after the change the event announces."""

    order_id: UUID
    status: OrderStatus
    email: str
    total: int  # minor units
    currency: str
    lines: tuple[OrderLine, ...] = ()
    payment_deadline: datetime | None = None
    refund_reversals: int = 0  # refunds of this order that failed or were canceled (see `newer`)


class OrderCreated(_OrderEvent):
    routing_key: ClassVar[str] = "order.created"


class OrderPaid(_OrderEvent):
    """The order is paid by the payment below (the receipt follows this event)."""

    routing_key: ClassVar[str] = "order.paid"
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    paid_at: datetime | None = None
    payment_method: PaymentMethod | None = None  # from payment.succeeded: how Stripe says it was paid
    tax: Tax | None = None  # from payment.succeeded: the tax the payment included or added


class OrderPaymentFailed(_OrderEvent):
    """A payment for the unpaid order failed; the customer may try again (one per failed session)."""

    routing_key: ClassVar[str] = "order.payment_failed"
    checkout_session_id: str
    reason: str | None = None


class OrderCanceled(_OrderEvent):
    routing_key: ClassVar[str] = "order.canceled"
    reason: str | None = None


class OrderRefunded(_OrderEvent):
    routing_key: ClassVar[str] = "order.refunded"
    amount_refunded: int = 0


class OrderRefundReversed(_OrderEvent):
    """A refund of the order's payment failed or was canceled: the money stayed with the shop, so the
    refunded amount goes back down and a refunded order is paid again (`status`). The one move back;
    `refund_reversals` counts it. `refund_id` and its amount when the payment event named them."""

    routing_key: ClassVar[str] = "order.refund_reversed"
    amount_refunded: int  # what stays refunded of the order, after the reversal
    refund_id: str | None = None
    refund_amount: int | None = None
    refund_status: str | None = None  # failed or canceled


class OrderPaymentParked(_OrderEvent):
    """A payment that does not match the order (amount or currency) was parked for a person to review;
    the order did not move. `amount` and `payment_currency` are the payment's, `total` the order's."""

    routing_key: ClassVar[str] = "order.payment_parked"
    checkout_session_id: str
    payment_intent_id: str | None = None
    amount: int | None = None  # None: the payment did not say (a refund without its captured amount)
    payment_currency: str
    reason: str
