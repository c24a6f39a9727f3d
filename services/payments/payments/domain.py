"""payments domain (pure): which orders are payable, what we ask Stripe for, session bookkeeping, and
the webhook rules: a Stripe event and a recorded session in, payment events out."""

from __future__ import annotations

from collections.abc import Sequence
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
    PaymentDuplicateRefunded,
    PaymentExpired,
    PaymentFailed,
    PaymentMethod,
    PaymentPending,
    PaymentRefunded,
    PaymentRefundReversed,
    PaymentSucceeded,
    Tax,
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
    refunded_amount: int = 0  # gross: every refund counted so far, reversed ones included (high-water)
    duplicate_of: str | None = None  # a second payment: the session that paid the order first
    reversed_amount: int = 0  # refunds that failed or were canceled after being counted

    @property
    def net_refunded(self) -> int:
        return self.refunded_amount - self.reversed_amount

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


def line_items(order: Order, tax_rates: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """price_data line items in minor units, from the orders service's record only; `tax_rates`
    (PAYMENTS_TAX_RATES, inclusive Stripe Tax Rates) on every line."""
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
            **({"tax_rates": list(tax_rates)} if tax_rates else {}),
        }
        for line in order.items
    ]


def new_session(
    order: Order, attempt: int, public_url: str, expires: datetime, tax_rates: tuple[str, ...] = ()
) -> Session:
    """A reserved attempt with the exact Stripe parameters it will be created (and replayed) with."""
    order_id = str(order.id)
    request: dict[str, Any] = {
        "mode": "payment",
        "line_items": line_items(order, tax_rates),
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
REFUND_EVENT = "charge.refunded"  # data.object is the charge: its net refunded total
# data.object is one refund: its id, amount and status (Stripe's refund lifecycle)
REFUND_OBJECT_EVENTS = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)
REFUND_EVENTS = REFUND_OBJECT_EVENTS | {REFUND_EVENT}
# Every type the webhook applies (any other is stored as `ignored`): the one list, for whatever else
# asks Stripe for "the events payments handles" (the reconciliation sweep, issue 15).
HANDLED_TYPES = tuple(sorted(SESSION_EVENTS | REFUND_EVENTS))
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
    refunds: tuple[Refund, ...] = ()  # refunds to record: new ones, or ones whose status moved


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


@dataclass(frozen=True)
class PaymentFacts:
    """What Stripe says about a paid session beyond its amount, for the invoice: how it was paid
    (the charge's payment_method_details) and the tax (the session's total_details)."""

    method: PaymentMethod | None = None
    tax: Tax | None = None


def payment_event(
    outcome: Outcome, session: Session, event: StripeEvent, facts: PaymentFacts | None = None
) -> Event:
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
    if outcome is Outcome.SUCCEEDED and facts is not None:
        fields |= {"payment_method": facts.method, "tax": facts.tax}
    return _EVENT_OF[outcome](**fields)


def _succeed(session: Session, event: StripeEvent, paid_by: str | None) -> tuple[Session, Refund | None]:
    """The session's payment succeeded. When another session of the order already paid it, this one is
    a second payment: recorded as such, nothing published for it, and a full refund planned."""
    seen = replace(session, outcome=Outcome.SUCCEEDED, succeeded_event_id=event.id, payment_status="paid")
    if paid_by is None or paid_by == session.session_id:
        return seen, None
    seen = replace(seen, duplicate_of=paid_by)
    return seen, duplicate_refund(seen, event)


def apply_session_event(
    session: Session, event: StripeEvent, paid_by: str | None = None, facts: PaymentFacts | None = None
) -> Effect:
    """A checkout.session.* event: at most one event per outcome, never a success on a mismatch, and
    no success for a second payment of an order `paid_by` another session: that one is refunded.
    `facts` (how it was paid, the tax) go on a success."""
    outcome = session_outcome(event)
    seen = _observe(session, event)
    if outcome is None:
        return Effect(seen)
    mismatch = _mismatch(session, event.object.get("amount_total"), event.object.get("currency"))
    if mismatch is not None:
        return Effect(seen, mismatch=mismatch, note="amount_mismatch")
    if outcome not in _NEXT[session.outcome]:
        return Effect(seen, note=f"already_{session.outcome}")
    if outcome is Outcome.SUCCEEDED:
        seen, refund = _succeed(seen, event, paid_by)
        if refund is not None:
            return Effect(seen, note="duplicate_payment", refunds=(refund,))
        return Effect(seen, (payment_event(outcome, seen, event, facts),), note=f"payment.{outcome}")
    seen = replace(seen, outcome=outcome)
    return Effect(seen, (payment_event(outcome, seen, event),), note=f"payment.{outcome}")


# --- refunds: second payments, and each refund's lifecycle at Stripe ------------------------------

DUPLICATE_PAYMENT = "duplicate_payment"


class RefundStatus(StrEnum):
    TO_ISSUE = "to_issue"  # ours, decided, not yet accepted by Stripe (the worker issues it)
    REFUSED = "refused"  # ours, Stripe refused to create it (e.g. the charge was refunded already)
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def rank(self) -> int:
        return _REFUND_RANK[self]

    @property
    def counted(self) -> bool:
        """Stripe took it: part of the payment's refunded total (a reversed one stays in the gross)."""
        return self.rank >= 1 and self is not RefundStatus.REFUSED

    @property
    def reversed(self) -> bool:
        return self in (RefundStatus.FAILED, RefundStatus.CANCELED)


_REFUND_RANK = {
    RefundStatus.TO_ISSUE: 0,
    RefundStatus.REFUSED: 3,
    RefundStatus.PENDING: 1,
    RefundStatus.REQUIRES_ACTION: 1,
    RefundStatus.SUCCEEDED: 2,
    RefundStatus.FAILED: 3,
    RefundStatus.CANCELED: 3,
}
STRIPE_REFUND_STATUSES = frozenset(
    s.value for s in RefundStatus if s.rank >= 1 and s is not RefundStatus.REFUSED
)


@dataclass(frozen=True)
class Refund:
    """One refund of a session's payment: ours (idempotency_key set) or made at Stripe by someone else."""

    order_id: UUID
    checkout_session_id: str
    payment_intent_id: str | None
    amount: int
    currency: str
    reason: str
    status: RefundStatus
    stripe_refund_id: str | None = None
    idempotency_key: str | None = None
    failure_reason: str | None = None
    decided_by: str | None = None  # the Stripe event that revealed a second payment
    id: int | None = None  # the row's, once stored

    def moved(self, status: RefundStatus) -> bool:
        """Stripe's statuses only move forward; pending and requires_action may swap."""
        return status is not self.status and (
            status.rank > self.status.rank or (status.rank == self.status.rank == 1)
        )


def refund_key(session_id: str) -> str:
    """Deterministic per second payment: a retried call replays Stripe's first refund."""
    return f"paybus-refund-{session_id}"


def duplicate_refund(session: Session, event: StripeEvent) -> Refund:
    """The full refund of a second payment, to issue through Stripe's Refund API."""
    assert session.session_id is not None
    left = session.amount - session.net_refunded
    return Refund(
        order_id=session.order_id,
        checkout_session_id=session.session_id,
        payment_intent_id=session.payment_intent_id,
        amount=left,
        currency=session.currency,
        reason=DUPLICATE_PAYMENT,
        status=RefundStatus.TO_ISSUE if left > 0 else RefundStatus.REFUSED,
        idempotency_key=refund_key(session.session_id),
        decided_by=event.id,
    )


def refund_request(refund: Refund) -> dict[str, Any]:
    """The Refund API parameters of one of ours (replayed as they are under its idempotency key)."""
    return {
        "payment_intent": refund.payment_intent_id,
        "amount": refund.amount,
        "reason": "duplicate",
        "metadata": {
            "order_id": str(refund.order_id),
            "checkout_session_id": refund.checkout_session_id,
            "paybus_refund": refund.idempotency_key,
        },
    }


@dataclass(frozen=True)
class RefundSeen:
    """A refund as Stripe reports it (a refund object in an event, or the Refund API's answer)."""

    id: str
    amount: int
    currency: str
    status: RefundStatus
    failure_reason: str | None = None
    reason: str | None = None
    ours: str | None = None  # metadata.paybus_refund: the idempotency key of one of ours


def parse_refund(obj: Obj) -> RefundSeen | None:
    """A Stripe refund object, or None when it is not one we can trust (a clear note, nothing applied)."""
    rid, amount, currency, status = obj.get("id"), obj.get("amount"), obj.get("currency"), obj.get("status")
    if obj.get("object") != "refund" or not isinstance(rid, str) or not rid.startswith("re_"):
        return None
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return None
    if not isinstance(currency, str) or status not in STRIPE_REFUND_STATUSES:
        return None
    metadata = obj.get("metadata")
    ours = metadata.get("paybus_refund") if isinstance(metadata, dict) else None
    failure = obj.get("failure_reason")
    reason = obj.get("reason")
    return RefundSeen(
        rid,
        amount,
        currency.lower(),
        RefundStatus(status),
        failure_reason=failure if isinstance(failure, str) else None,
        reason=reason if isinstance(reason, str) else None,
        ours=ours if isinstance(ours, str) else None,
    )


def _base_fields(session: Session, event_id: str) -> Obj:
    return {
        "order_id": session.order_id,
        "stripe_event_id": event_id,
        "checkout_session_id": session.session_id or "",
        "currency": session.currency,
        "payment_intent_id": session.payment_intent_id,
    }


def _record(session: Session, known: Refund | None, seen: RefundSeen) -> Refund | None:
    """The stored refund after Stripe's news, or None when the news is old (status never goes back)."""
    if known is None:
        assert session.session_id is not None
        return Refund(
            session.order_id,
            session.session_id,
            session.payment_intent_id,
            seen.amount,
            seen.currency,
            seen.reason or "stripe",
            seen.status,
            stripe_refund_id=seen.id,
            failure_reason=seen.failure_reason,
        )
    if known.stripe_refund_id == seen.id and not known.moved(seen.status):
        return None
    return replace(known, stripe_refund_id=seen.id, status=seen.status, failure_reason=seen.failure_reason)


def refund_seen(
    session: Session, refunds: Sequence[Refund], seen: RefundSeen, event_id: str, paid_by: str | None = None
) -> Effect:
    """Record a refund's status; publish what it changes for the payment (issued, grown, reversed)."""
    if seen.currency != session.currency or seen.amount > session.amount:
        return Effect(
            session,
            mismatch=Mismatch(seen.amount, seen.currency, session.amount, session.currency),
            note="amount_mismatch",
        )
    known = next((r for r in refunds if r.stripe_refund_id == seen.id), None) or next(
        (r for r in refunds if seen.ours is not None and r.idempotency_key == seen.ours), None
    )
    record = _record(session, known, seen)
    if record is None:
        return Effect(session, note="refund_already_seen")
    after = [r for r in refunds if r is not known] + [record]
    # a refund first heard of as failed or canceled never went back: it is announced as reversed only
    announce = not (record.status.reversed and (known is None or not known.status.counted))
    effect = _account(session, after, event_id, paid_by, announce=announce)
    issued: tuple[Event, ...] = ()
    if known is not None and known.status is RefundStatus.TO_ISSUE and record.reason == DUPLICATE_PAYMENT:
        issued = (duplicate_refunded(effect.session, record),)
    reversal = _reversal(effect.session, session, record, event_id)
    events = (*effect.events, *issued, *reversal)
    note = f"refund.{record.status}" if not events else " ".join(e.routing_key for e in events)
    return replace(effect, events=events, refunds=(*effect.refunds, record), note=note)


def duplicate_refunded(session: Session, refund: Refund) -> PaymentDuplicateRefunded:
    assert refund.stripe_refund_id is not None
    assert session.duplicate_of is not None
    return PaymentDuplicateRefunded(
        **_base_fields(session, refund.decided_by or ""),
        amount=refund.amount,
        refund_id=refund.stripe_refund_id,
        refund_status=refund.status.value,
        paid_by_checkout_session_id=session.duplicate_of,
    )


def _reversal(after: Session, before: Session, record: Refund, event_id: str) -> tuple[Event, ...]:
    if after.reversed_amount <= before.reversed_amount or not record.status.reversed:
        return ()
    assert record.stripe_refund_id is not None
    return (
        PaymentRefundReversed(
            **_base_fields(after, event_id),
            amount=after.net_refunded,
            amount_reversed=after.reversed_amount,
            refund_id=record.stripe_refund_id,
            refund_amount=record.amount,
            refund_status=record.status.value,
            failure_reason=record.failure_reason,
            second_payment=after.duplicate_of is not None,
        ),
    )


def _account(
    session: Session,
    refunds: Sequence[Refund],
    event_id: str,
    paid_by: str | None,
    *,
    hint: int = 0,
    full: bool = False,
    captured: int | None = None,
    announce: bool = True,
) -> Effect:
    """The payment's refunded totals from its refunds (gross high-water and reversed); a grown gross is
    published as payment.refunded. A refund proves the payment: an unknown success is applied first
    (or, for a second payment, recorded as such and its refund planned)."""
    gross = max(session.refunded_amount, hint, sum(r.amount for r in refunds if r.status.counted))
    reversed_ = max(session.reversed_amount, sum(r.amount for r in refunds if r.status.reversed))
    seen = replace(session, refunded_amount=gross, reversed_amount=reversed_)
    events: list[Event] = []
    plans: tuple[Refund, ...] = ()
    if gross > 0 and session.outcome is not Outcome.SUCCEEDED:
        proof = StripeEvent(event_id, "refund", {})
        seen, plan = _succeed(seen, proof, paid_by)
        if plan is None:
            events.append(payment_event(Outcome.SUCCEEDED, seen, proof))
        else:
            plans = (plan,)
    if announce and gross > session.refunded_amount and seen.duplicate_of is None:
        net = seen.net_refunded
        events.append(
            PaymentRefunded(
                **_base_fields(seen, event_id),
                amount=net,
                amount_reversed=reversed_,
                amount_captured=captured,
                fully_refunded=full or net >= seen.amount,
            )
        )
    note = "payment.refunded" if events else ("duplicate_payment" if plans else "refund_already_seen")
    return Effect(seen, tuple(events), note=note, refunds=plans)


def apply_refund(
    session: Session, event: StripeEvent, refunds: Sequence[Refund] = (), paid_by: str | None = None
) -> Effect:
    """charge.refunded carries the charge's net refunded total: a lower bound of the gross (reorder-safe).

    A refund seen before the success (reordered webhooks) proves the charge succeeded: the success
    is published first, so consumers always see paid before refunded.
    """
    charge = event.object
    seen = replace(session, payment_intent_id=session.payment_intent_id or event.payment_intent)
    mismatch = _mismatch(session, charge.get("amount"), charge.get("currency"))
    if mismatch is not None:
        return Effect(seen, mismatch=mismatch, note="amount_mismatch")
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int) or isinstance(refunded, bool) or refunded <= 0:
        return Effect(seen, note="refund_already_seen")
    captured = charge.get("amount_captured")
    return _account(
        seen,
        refunds,
        event.id,
        paid_by,
        hint=refunded,
        full=charge.get("refunded") is True,
        captured=captured if isinstance(captured, int) else None,
    )


def apply_refund_object(
    session: Session, event: StripeEvent, refunds: Sequence[Refund] = (), paid_by: str | None = None
) -> Effect:
    """refund.created / refund.updated / refund.failed / charge.refund.updated: one refund's status."""
    seen_refund = parse_refund(event.object)
    session = replace(session, payment_intent_id=session.payment_intent_id or event.payment_intent)
    if seen_refund is None:
        return Effect(session, note="invalid_refund")
    return refund_seen(session, refunds, seen_refund, event.id, paid_by)


# --- reconciliation sweep: which of Stripe's events one sweep lists --------------------------------

STRIPE_RETENTION = timedelta(days=30)  # Stripe lists events of the last 30 days
SWEEP_OVERLAP = timedelta(minutes=5)  # each sweep lists again from a little before the checkpoint:
# events that became visible late, and clock skew between Stripe and us, are still seen


@dataclass(frozen=True)
class SweepWindow:
    """Which events one sweep lists, and whether it may move the checkpoint."""

    start: datetime  # list events Stripe created at or after this
    covers_checkpoint: bool  # the window reaches back to the checkpoint: afterwards all is covered


def sweep_window(checkpoint: datetime | None, now: datetime, since: float | None = None) -> SweepWindow:
    """From a little before the checkpoint (first sweep: all Stripe keeps); `since` seconds when given.

    A sweep over the last `since` seconds moves the checkpoint only if it reaches back to it (or, with
    no checkpoint yet, to the start of Stripe's retention): otherwise events between the two were never
    listed and the checkpoint would claim they were.
    """
    earliest = now - STRIPE_RETENTION
    if since is not None:
        start = max(earliest, now - timedelta(seconds=since))
        return SweepWindow(start, start <= (checkpoint if checkpoint is not None else earliest))
    start = max(earliest, checkpoint - SWEEP_OVERLAP) if checkpoint is not None else earliest
    return SweepWindow(start, True)
