"""payments domain (pure): which orders are payable, what we ask Stripe for, session bookkeeping, and
the webhook rules: a Stripe event and a recorded session in, payment events out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field

from messaging.event import Event
from messaging.events.orders import OrderLine, OrderStatus, payable
from messaging.events.payments import (
    PaymentExpired,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentSucceeded,
)

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


# --- webhook rules: a Stripe event and a recorded session in, payment events out ------------------

Obj = dict[str, Any]
SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
REFUND_EVENT = "charge.refunded"
# Which outcome may follow which: one session publishes each at most once and never goes back.
_NEXT: dict[Outcome | None, frozenset[Outcome]] = {
    None: frozenset(Outcome),
    Outcome.PENDING: frozenset({Outcome.SUCCEEDED, Outcome.FAILED}),
    Outcome.SUCCEEDED: frozenset(),
    Outcome.FAILED: frozenset(),
    Outcome.EXPIRED: frozenset(),
}
_EVENT_OF: dict[Outcome, type[Event]] = {
    Outcome.PENDING: PaymentPending,
    Outcome.SUCCEEDED: PaymentSucceeded,
    Outcome.FAILED: PaymentFailed,
    Outcome.EXPIRED: PaymentExpired,
}


class InvalidEvent(ValueError):
    """A verified body that is not a Stripe event: 400."""


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    object: Obj
    livemode: bool = False
    created: int | None = None

    @property
    def payment_intent(self) -> str | None:
        value = self.object.get("payment_intent")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Mismatch:
    """Stripe reported an amount or currency other than the one we asked for: a person must look."""

    received_amount: int | None
    received_currency: str | None
    expected_amount: int
    expected_currency: str


@dataclass(frozen=True)
class Effect:
    session: Session
    events: tuple[Event, ...] = ()
    mismatch: Mismatch | None = None
    note: str = "ignored"  # stored beside the raw event: what it did


def parse_event(body: bytes) -> StripeEvent:
    try:
        # pydantic-core's parser bounds nesting depth: a deeply nested body is a ValueError like any
        # other malformed JSON, never a RecursionError (json.loads recurses once per level).
        raw = pydantic_core.from_json(body)
    except ValueError as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("object", "event") != "event":
        raise InvalidEvent("body is not a Stripe event object")
    event_id, event_type, data = raw.get("id"), raw.get("type"), raw.get("data")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 255:
        raise InvalidEvent("event has no valid `id`")
    if not isinstance(event_type, str) or not event_type:
        raise InvalidEvent("event has no valid `type`")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise InvalidEvent("event has no `data.object`")
    created = raw.get("created")
    return StripeEvent(
        event_id,
        event_type,
        data["object"],
        livemode=raw.get("livemode") is True,
        created=created if isinstance(created, int) else None,
    )


def session_outcome(event: StripeEvent) -> Outcome | None:
    if event.type == "checkout.session.completed":
        paid = event.object.get("payment_status") in ("paid", "no_payment_required")
        return Outcome.SUCCEEDED if paid else Outcome.PENDING
    return {
        "checkout.session.async_payment_succeeded": Outcome.SUCCEEDED,
        "checkout.session.async_payment_failed": Outcome.FAILED,
        "checkout.session.expired": Outcome.EXPIRED,
    }.get(event.type)


def _mismatch(session: Session, amount: Any, currency: Any) -> Mismatch | None:
    ok_amount = isinstance(amount, int) and not isinstance(amount, bool) and amount == session.amount
    ok_currency = isinstance(currency, str) and currency.lower() == session.currency
    if ok_amount and ok_currency:
        return None
    return Mismatch(
        amount if isinstance(amount, int) else None,
        currency if isinstance(currency, str) else None,
        session.amount,
        session.currency,
    )


def _observe(session: Session, event: StripeEvent) -> Session:
    """What the event tells about the session; its status never moves back to open."""
    status = session.status
    new = event.object.get("status")
    if status in (SessionStatus.OPEN, SessionStatus.CREATING) and new in ("complete", "expired"):
        status = SessionStatus(new)
    payment_status = event.object.get("payment_status")
    if session.payment_status == "paid" or not isinstance(payment_status, str):
        payment_status = session.payment_status
    return replace(
        session,
        status=status,
        payment_status=payment_status,
        payment_intent_id=session.payment_intent_id or event.payment_intent,
    )


def payment_event(outcome: Outcome, session: Session, event: StripeEvent) -> Event:
    assert session.session_id is not None
    fields: Obj = {
        "order_id": session.order_id,
        "stripe_event_id": event.id,
        "checkout_session_id": session.session_id,
        "amount": session.amount,
        "currency": session.currency,
        "payment_intent_id": session.payment_intent_id,
    }
    if outcome is Outcome.FAILED:
        fields["reason"] = "async_payment_failed"
    return _EVENT_OF[outcome](**fields)


def apply_session_event(session: Session, event: StripeEvent) -> Effect:
    """A checkout.session.* event: at most one event per outcome, never a success on a mismatch."""
    outcome = session_outcome(event)
    seen = _observe(session, event)
    if outcome is None:
        return Effect(seen)
    mismatch = _mismatch(session, event.object.get("amount_total"), event.object.get("currency"))
    if mismatch is not None:
        return Effect(seen, mismatch=mismatch, note="amount_mismatch")
    if outcome not in _NEXT[session.outcome]:
        return Effect(seen, note=f"already_{session.outcome}")
    seen = replace(seen, outcome=outcome)
    if outcome is Outcome.SUCCEEDED:
        seen = replace(seen, succeeded_event_id=event.id, payment_status="paid")
    return Effect(seen, (payment_event(outcome, seen, event),), note=f"payment.{outcome}")


def apply_refund(session: Session, event: StripeEvent) -> Effect:
    """charge.refunded carries the charge's refunded total: publish when it grows (reorder-safe).

    A refund seen before the success (reordered webhooks) proves the charge succeeded: the success
    is published first, so consumers always see paid before refunded.
    """
    charge = event.object
    seen = replace(session, payment_intent_id=session.payment_intent_id or event.payment_intent)
    mismatch = _mismatch(session, charge.get("amount"), charge.get("currency"))
    if mismatch is not None:
        return Effect(seen, mismatch=mismatch, note="amount_mismatch")
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int) or refunded <= session.refunded_amount:
        return Effect(seen, note="refund_already_seen")
    events: list[Event] = []
    if session.outcome is not Outcome.SUCCEEDED:
        seen = replace(seen, outcome=Outcome.SUCCEEDED, succeeded_event_id=event.id, payment_status="paid")
        events.append(payment_event(Outcome.SUCCEEDED, seen, event))
    seen = replace(seen, refunded_amount=refunded)
    captured = charge.get("amount_captured")
    refund = PaymentRefunded(
        order_id=session.order_id,
        stripe_event_id=event.id,
        checkout_session_id=session.session_id or "",
        amount=refunded,
        currency=session.currency,
        payment_intent_id=seen.payment_intent_id,
        amount_captured=captured if isinstance(captured, int) else None,
        fully_refunded=charge.get("refunded") is True or refunded >= session.amount,
    )
    return Effect(seen, (*events, refund), note="payment.refunded")
