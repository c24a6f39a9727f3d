"""payments webhook rules: a Stripe event and a recorded session in, payment events out (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pydantic_core

from messaging.event import Event
from messaging.events.payments import (
    PaymentExpired,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentSucceeded,
)
from payments.domain import Outcome, Session, SessionStatus

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
_EVENT_OF = {
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
