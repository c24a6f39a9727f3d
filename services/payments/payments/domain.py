"""payments domain: which orders are payable, what we ask Stripe for, and session bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from messaging.events.orders import OrderLine, OrderStatus, payable

MAX_EXPIRES_IN = 24 * 3600  # Stripe's upper bound for a Checkout Session's expires_at
# Stripe measures its 30 min .. 24 h window from when it creates the session, later than our clock
# read (a slow request, an SDK retry, an idempotent replay, clock skew): stay this far inside it.
EXPIRES_MARGIN = timedelta(minutes=5)


class Order(BaseModel):
    """The order as the orders service states it (payments fetches it; callers send only its id)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: UUID
    status: OrderStatus
    email: str = Field(min_length=3)
    items: tuple[OrderLine, ...] = Field(min_length=1)
    total: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    payment_deadline: datetime | None = None


class NotPayable(Exception):
    """The order cannot be paid now (status or deadline): 409."""


class InconsistentOrder(ValueError):
    """The order's lines do not add up to its total: refuse rather than charge a wrong amount."""


class SessionStatus(StrEnum):
    CREATING = "creating"  # reserved, Stripe not answered yet: replayed with the same key
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"
    FAILED = "failed"  # Stripe refused the request: never replayed


class Outcome(StrEnum):
    """The last payment event published for a session."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Session:
    """One checkout attempt for an order, and what we learned about it from Stripe."""

    order_id: UUID
    attempt: int
    idempotency_key: str
    request: dict[str, Any]  # the parameters sent to Stripe, replayed as they are
    amount: int
    currency: str
    expires_at: datetime
    status: SessionStatus = SessionStatus.CREATING
    session_id: str | None = None
    url: str | None = None
    payment_status: str = "unpaid"
    payment_intent_id: str | None = None
    outcome: Outcome | None = None
    succeeded_event_id: str | None = None
    refunded_amount: int = 0

    def reusable(self, now: datetime) -> bool:
        return self.status is SessionStatus.OPEN and self.session_id is not None and self.expires_at > now


def check_payable(order: Order, now: datetime) -> None:
    if not payable(order.status, order.payment_deadline, now):
        if not order.status.unpaid:
            raise NotPayable(f"order {order.id} is {order.status}, not payable")
        deadline = order.payment_deadline.isoformat() if order.payment_deadline else "-"
        raise NotPayable(f"order {order.id} passed its payment deadline {deadline}")


def expires_at(deadline: datetime | None, now: datetime, min_expires_in: int) -> datetime:
    """The order's deadline, clamped into Stripe's window (min_expires_in .. 24 h from now) with
    EXPIRES_MARGIN to spare at both ends, so a request that reaches Stripe minutes late still fits."""
    earliest = now + timedelta(seconds=min_expires_in) + EXPIRES_MARGIN
    latest = now + timedelta(seconds=MAX_EXPIRES_IN) - EXPIRES_MARGIN
    wanted = deadline or latest
    return max(earliest, min(wanted, latest)).replace(microsecond=0)


def idempotency_key(order_id: UUID, attempt: int) -> str:
    """Deterministic per order attempt: a retried create replays Stripe's first answer."""
    return f"paybus-checkout-{order_id}-{attempt}"


def line_items(order: Order) -> list[dict[str, Any]]:
    """price_data line items in minor units, from the orders service's record only."""
    for line in order.items:
        if line.unit_price * line.quantity != line.line_total:
            raise InconsistentOrder(f"line {line.name!r}: {line.quantity} x {line.unit_price} != total")
    if sum(line.line_total for line in order.items) != order.total:
        raise InconsistentOrder(f"order {order.id}: lines do not add up to the total {order.total}")
    currency = order.currency.lower()
    return [
        {
            "price_data": {
                "currency": currency,
                "unit_amount": line.unit_price,
                "product_data": {"name": line.name},
            },
            "quantity": line.quantity,
        }
        for line in order.items
    ]


def new_session(order: Order, attempt: int, public_url: str, expires: datetime) -> Session:
    """A reserved attempt with the exact Stripe parameters it will be created (and replayed) with."""
    order_id = str(order.id)
    request: dict[str, Any] = {
        "mode": "payment",
        "line_items": line_items(order),
        "client_reference_id": order_id,
        "metadata": {"order_id": order_id},
        "payment_intent_data": {"metadata": {"order_id": order_id}},
        "customer_email": order.email,
        "success_url": f"{public_url}/payment/completed/?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{public_url}/payment/canceled/?order_id={order_id}",  # the page links back
        "expires_at": int(expires.timestamp()),
    }
    return Session(
        order_id=order.id,
        attempt=attempt,
        idempotency_key=idempotency_key(order.id, attempt),
        request=request,
        amount=order.total,
        currency=order.currency.lower(),
        expires_at=expires,
    )


def charges(session: Session, order: Order) -> bool:
    """The session asks exactly the order's amount, in its currency: only then may it be reused."""
    return session.amount == order.total and session.currency == order.currency.lower()


def check_retry(latest: Session | None) -> None:
    """A new attempt only when no payment is done or under way for the order."""
    if latest is None or latest.outcome in (Outcome.FAILED, Outcome.EXPIRED):
        return
    if latest.outcome in (Outcome.SUCCEEDED, Outcome.PENDING) or latest.status is SessionStatus.COMPLETE:
        raise NotPayable(f"order {latest.order_id} already has a payment ({latest.session_id})")
