"""notifier: one handler per consumed event; each keeps the order projection and sends its e-mail once.

Every handler claims its message through the inbox in the transaction that updates the projection and
records the e-mail's intent; the send follows the commit (sending.send_once), and runs again for a
repeat of the message, whose intent is already stored, so an e-mail a crash left unsent still goes.
Order events carry the order, so they never wait for one another (the receipt follows `order.paid`);
payments' fanout is read only for what payments alone knows (a refund, partial ones included).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from messaging.broker import Handlers
from messaging.event import Envelope
from messaging.events.orders import (
    OrderCanceled,
    OrderCreated,
    OrderPaid,
    OrderPaymentFailed,
    OrderPaymentParked,
    OrderRefunded,
    OrderRefundReversed,
    newer,
)
from messaging.events.payments import PaymentDuplicateRefunded, PaymentRefunded, PaymentRefundReversed
from messaging.inbox import Inbox
from messaging.money import format_money
from messaging.topology import NOTIFIER_ORDERS, NOTIFIER_PAYMENTS
from notifier import domain
from notifier.deps import Deps
from notifier.domain import Mail, Order, OrderNotKnown, Payment
from notifier.repository import Repository
from notifier.services import intend, send_once

log = logging.getLogger(__name__)
ORDERS_INBOX = Inbox(NOTIFIER_ORDERS.name)
PAYMENTS_INBOX = Inbox(NOTIFIER_PAYMENTS.name)
MailFor = Callable[[Order], Mail | None]


def _snapshot(msg: Envelope[Any]) -> Order:
    """The order as an order event states it."""
    data = msg.data
    return Order(
        id=data.order_id,
        email=data.email,
        lines=data.lines,
        total=data.total,
        currency=data.currency,
        status=data.status,
        created_at=msg.occurred_at,
        payment_deadline=data.payment_deadline,
        refund_reversals=data.refund_reversals,
    )


async def _observe(repo: Repository, msg: Envelope[Any]) -> Order:
    """The projection after an order event: stored on first sight, then moved only by later news
    (a higher rank, or a refund reversal: `newer`)."""
    snapshot = _snapshot(msg)
    await repo.save_order(snapshot)
    order = await repo.lock_order(snapshot.id)
    assert order is not None  # stored just above, in this transaction
    if newer(snapshot.status, snapshot.refund_reversals, order.status, order.refund_reversals):
        status, reversals = snapshot.status, snapshot.refund_reversals
        await repo.set_status(order.id, status, reversals)
        log.info("order %s is %s (message %s, correlation %s)", order.id, status, msg.id, msg.correlation_id)
        order = dataclasses.replace(order, status=status, refund_reversals=reversals)
    return order


async def _known(repo: Repository, msg: Envelope[Any]) -> Order:
    order = await repo.get_order(msg.data.order_id)
    if order is None:  # a payment event ahead of every order event: the retry path brings it back
        raise OrderNotKnown(f"order {msg.data.order_id} not known yet ({msg.type}, message {msg.id})")
    return order


async def _handle(msg: Envelope[Any], deps: Deps, inbox: Inbox, mail_for: MailFor) -> None:
    """Claim, update the projection (order events) and record the e-mail's intent; then send it."""
    order_event = inbox is ORDERS_INBOX
    async with deps.transaction() as repo:
        if await inbox.accept(repo, msg):
            order = await (_observe(repo, msg) if order_event else _known(repo, msg))
            mail = mail_for(order)
            if mail is not None:
                await intend(repo, mail, msg, deps)
        else:  # a repeat: its effect is stored; only an e-mail it left unsent is still to go
            known = await repo.get_order(msg.data.order_id)
            mail = mail_for(known) if known is not None else None
    if mail is not None:
        await send_once(mail, msg, deps)


async def on_order_created(msg: Envelope[OrderCreated], deps: Deps) -> None:
    await _handle(msg, deps, ORDERS_INBOX, lambda order: domain.confirmation(order, deps.base_url))


async def on_order_paid(msg: Envelope[OrderPaid], deps: Deps) -> None:
    """The receipt follows order.paid: orders decided that this payment pays the order, at its total.

    Not payment.succeeded: a payment that does not match its order is parked by orders, never paid,
    and must not get a receipt (issue 13); and the path runs one way, payments -> orders -> notifier.
    """
    data = msg.data
    paid_at = data.paid_at or msg.occurred_at
    payment = Payment(
        data.total,
        data.currency,
        paid_at,
        data.checkout_session_id or "",
        data.payment_intent_id,
        method=data.payment_method,
        tax=data.tax,
    )
    await _handle(msg, deps, ORDERS_INBOX, lambda order: domain.receipt(order, payment))


async def on_order_payment_failed(msg: Envelope[OrderPaymentFailed], deps: Deps) -> None:
    data = msg.data
    await _handle(
        msg,
        deps,
        ORDERS_INBOX,
        lambda order: domain.payment_failed(order, data.checkout_session_id, data.reason, deps.base_url),
    )


async def on_order_canceled(msg: Envelope[OrderCanceled], deps: Deps) -> None:
    reason = msg.data.reason
    await _handle(msg, deps, ORDERS_INBOX, lambda order: domain.canceled(order, reason, deps.base_url))


async def on_order_payment_parked(msg: Envelope[OrderPaymentParked], deps: Deps) -> None:
    """Tell the shop about a payment orders parked for review (issue 13): a person decides."""
    data = msg.data
    paid = (
        "an amount it did not say"
        if data.amount is None
        else format_money(data.amount, data.payment_currency)
    )
    reason = (
        f"{data.reason}: paid {paid} for a total of {format_money(data.total, data.currency)} "
        f"(checkout session {data.checkout_session_id}, payment intent {data.payment_intent_id or '-'})"
    )
    await _handle(
        msg,
        deps,
        ORDERS_INBOX,
        lambda order: domain.payment_parked(order, data.checkout_session_id, reason, deps.shop_email),
    )


async def on_order_refunded(msg: Envelope[OrderRefunded], deps: Deps) -> None:
    # payment.refunded drives the refund e-mail (every refund, partial ones too): this only mirrors.
    await _handle(msg, deps, ORDERS_INBOX, lambda order: None)


async def on_order_refund_reversed(msg: Envelope[OrderRefundReversed], deps: Deps) -> None:
    # payment.refund_reversed drives the e-mail (payments knows the refund): this only mirrors.
    await _handle(msg, deps, ORDERS_INBOX, lambda order: None)


async def on_payment_refunded(msg: Envelope[PaymentRefunded], deps: Deps) -> None:
    amount, gross = msg.data.amount, msg.data.amount + msg.data.amount_reversed
    await _handle(msg, deps, PAYMENTS_INBOX, lambda order: domain.refund(order, amount, gross))


async def on_payment_duplicate_refunded(msg: Envelope[PaymentDuplicateRefunded], deps: Deps) -> None:
    """A second payment, refunded by payments: only payments knows of it (orders never saw it pay)."""
    data = msg.data
    await _handle(
        msg, deps, PAYMENTS_INBOX,
        lambda order: domain.duplicate_refund(order, data.checkout_session_id, data.amount),
    )  # fmt: skip


async def on_payment_refund_reversed(msg: Envelope[PaymentRefundReversed], deps: Deps) -> None:
    """A refund failed or was canceled at Stripe: the customer is told it did not reach them."""
    d = msg.data

    def mail_for(order: Order) -> Mail:
        return domain.refund_reversed(
            order,
            d.refund_id,
            d.refund_amount,
            d.refund_status,
            d.failure_reason,
            second_payment=d.second_payment,
        )

    await _handle(msg, deps, PAYMENTS_INBOX, mail_for)


HANDLERS: Handlers[Deps] = {
    OrderCreated: on_order_created,
    OrderPaid: on_order_paid,
    OrderPaymentFailed: on_order_payment_failed,
    OrderCanceled: on_order_canceled,
    OrderRefunded: on_order_refunded,
    OrderRefundReversed: on_order_refund_reversed,
    OrderPaymentParked: on_order_payment_parked,
    PaymentRefunded: on_payment_refunded,
    PaymentDuplicateRefunded: on_payment_duplicate_refunded,
    PaymentRefundReversed: on_payment_refund_reversed,
}
