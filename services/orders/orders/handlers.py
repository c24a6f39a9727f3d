"""Orders handlers: one per consumed message, inbox-guarded, each applying one domain transition."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from messaging.broker import Handlers
from messaging.event import Envelope
from messaging.events.payments import (
    PaymentExpired,
    PaymentFailed,
    PaymentPending,
    PaymentRefunded,
    PaymentRefundReversed,
    PaymentSucceeded,
)
from messaging.inbox import Inbox
from messaging.topology import ORDERS_DEADLINES, ORDERS_PAYMENTS
from orders import domain
from orders.deps import Deps
from orders.domain import Order, Outcome, Payment, Reversal, Review
from orders.messages import PaymentDeadlineReached

log = logging.getLogger(__name__)
PAYMENTS_INBOX = Inbox(ORDERS_PAYMENTS.name)
DEADLINES_INBOX = Inbox(ORDERS_DEADLINES.name)
OrdersHandler = Callable[[Envelope[Any], Deps], Awaitable[None]]


class OrderNotFound(LookupError):
    """A message names an order we do not have: raised so it is retried, then parked in the DLQ."""


async def _apply(msg: Envelope[Any], deps: Deps, inbox: Inbox, change: Callable[[Order], Outcome]) -> None:
    """Claim the message, lock the order, apply the change, and queue its events: one transaction.

    The events follow the message up: same correlation id (the order id), caused by the message.
    """
    async with deps.transaction() as repo:
        if not await inbox.accept(repo, msg):
            return
        order = await repo.lock_order(msg.data.order_id)
        if order is None:
            raise OrderNotFound(f"{msg.type} {msg.id} names unknown order {msg.data.order_id}")
        outcome = change(order)
        if outcome.order != order:
            await repo.save_order(outcome.order)
        if outcome.review is not None:
            await repo.add_review(outcome.review, message_id=str(msg.id), kind=msg.type)
            _log_review(msg, outcome.review)
        for event in outcome.events:
            await repo.add_to_outbox(msg.follow_up(event))
    log.info(
        "%s: message %s (correlation %s) %s: order %s %s -> %s",
        inbox.consumer,
        msg.id,
        msg.correlation_id,
        msg.type,
        order.id,
        order.status.value,
        outcome.order.status.value,
    )


def _payment(msg: Envelope[Any]) -> Payment:
    data = msg.data
    return Payment(
        data.checkout_session_id,
        data.payment_intent_id,
        data.amount,
        msg.occurred_at,
        data.currency,
        captured=getattr(data, "amount_captured", None),
        reason=getattr(data, "reason", None),
        method=getattr(data, "payment_method", None),
        tax=getattr(data, "tax", None),
        reversed=getattr(data, "amount_reversed", 0),
    )


def _log_review(msg: Envelope[Any], review: Review) -> None:
    """An operator must look: ERROR, with everything needed to find the payment at Stripe."""
    log.error(
        "message %s (correlation %s) %s: order %s NOT paid, parked for review (%s): "
        "session %s, payment intent %s, %s %s, expected %d %s",
        msg.id, msg.correlation_id, msg.type, review.order_id, review.reason, review.session_id,
        review.payment_intent_id, review.amount, review.currency, review.expected_amount,
        review.expected_currency,
    )  # fmt: skip


def _on_payment(transition: Callable[[Order, Payment], Outcome]) -> OrdersHandler:
    """The handler of a payments event whose transition needs nothing from the message but the payment."""

    async def handle(msg: Envelope[Any], deps: Deps) -> None:
        payment = _payment(msg)
        await _apply(msg, deps, PAYMENTS_INBOX, lambda order: transition(order, payment))

    return handle


on_payment_succeeded = _on_payment(domain.payment_succeeded)
on_payment_pending = _on_payment(domain.payment_pending)
on_payment_failed = _on_payment(domain.payment_failed)
on_payment_expired = _on_payment(domain.payment_expired)


async def on_payment_refunded(msg: Envelope[PaymentRefunded], deps: Deps) -> None:
    payment, full = _payment(msg), msg.data.fully_refunded
    await _apply(msg, deps, PAYMENTS_INBOX, lambda order: domain.payment_refunded(order, payment, full=full))


async def on_payment_refund_reversed(msg: Envelope[PaymentRefundReversed], deps: Deps) -> None:
    """A refund failed or was canceled. The refund of a second payment (payments refunded a payment the
    order never counted) does not touch the order: the message is claimed and nothing else happens."""
    data = msg.data
    payment, reversal = _payment(msg), Reversal(data.refund_id, data.refund_amount, data.refund_status)
    if data.second_payment:
        change: Callable[[Order], Outcome] = Outcome
    else:
        change = lambda order: domain.refund_reversed(order, payment, reversal)  # noqa: E731
    await _apply(msg, deps, PAYMENTS_INBOX, change)


async def on_payment_deadline_reached(msg: Envelope[PaymentDeadlineReached], deps: Deps) -> None:
    at = deps.now()
    await _apply(msg, deps, DEADLINES_INBOX, lambda order: domain.deadline_reached(order, at))


PAYMENT_HANDLERS: Handlers[Deps] = {
    PaymentSucceeded: on_payment_succeeded,
    PaymentPending: on_payment_pending,
    PaymentFailed: on_payment_failed,
    PaymentExpired: on_payment_expired,
    PaymentRefunded: on_payment_refunded,
    PaymentRefundReversed: on_payment_refund_reversed,
}
DEADLINE_HANDLERS: Handlers[Deps] = {PaymentDeadlineReached: on_payment_deadline_reached}
HANDLERS: Handlers[Deps] = {**PAYMENT_HANDLERS, **DEADLINE_HANDLERS}
