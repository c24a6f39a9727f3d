"""notifier: one handler per consumed event; each keeps what it needs and sends its e-mail once."""

from __future__ import annotations

import logging
from typing import Any

from messaging.broker import Handlers
from messaging.event import Envelope
from messaging.events.orders import (
    OrderCanceled,
    OrderCreated,
    OrderPaid,
    OrderPaymentParked,
    OrderRefunded,
)
from messaging.events.payments import PaymentFailed, PaymentRefunded
from messaging.money import format_money
from notifier import domain
from notifier.deps import Deps
from notifier.domain import Line, Order, OrderNotKnown, Payment
from notifier.repository import Repository
from notifier.sending import intend, send_once

log = logging.getLogger(__name__)
ORDERS_QUEUE = "notifier.orders"
PAYMENTS_QUEUE = "notifier.payments"


def _order(msg: Envelope[OrderCreated]) -> Order:
    data = msg.data
    lines = tuple(
        Line(line.product_id, line.name, line.quantity, line.unit_price, line.line_total)
        for line in data.lines
    )
    return Order(
        id=data.order_id,
        email=data.email,
        lines=lines,
        total=data.total,
        currency=data.currency,
        status=data.status,
        created_at=msg.occurred_at,
        payment_deadline=data.payment_deadline,
    )


async def _known(repo: Repository, msg: Envelope[Any]) -> Order:
    order = await repo.get_order(msg.data.order_id)
    if order is None:  # order.created is late or being retried: raise, the retry path brings it back
        raise OrderNotKnown(f"order {msg.data.order_id} not known yet ({msg.type}, message {msg.id})")
    return order


async def _advance(repo: Repository, msg: Envelope[Any], queue: str, status: str) -> Order:
    """Mirror the order's status (forward only); the inbox claim makes a repeat change nothing."""
    order = await _known(repo, msg)
    moved = domain.advance(order.status, status)
    if moved != order.status and await repo.claim(queue, str(msg.id)):
        await repo.set_status(order.id, moved)
        log.info("order %s is %s (message %s, correlation %s)", order.id, moved, msg.id, msg.correlation_id)
    return order


async def on_order_created(msg: Envelope[OrderCreated], deps: Deps) -> None:
    async with deps.transaction() as repo:
        await repo.save_order(_order(msg))  # the first copy wins; a repeat changes nothing
        mail = domain.confirmation(await _known(repo, msg), deps.base_url)
        await intend(repo, mail, msg, deps)
    await send_once(mail, msg, deps)


async def on_order_paid(msg: Envelope[OrderPaid], deps: Deps) -> None:
    """The receipt follows order.paid: orders decided that this payment pays the order, at its total.

    Not payment.succeeded: a payment that does not match its order is parked by orders, never paid,
    and must not get a receipt (issue 13); and the path runs one way, payments -> orders -> notifier.
    """
    data = msg.data
    paid_at = data.paid_at or msg.occurred_at
    payment = Payment(
        data.total, data.currency, paid_at, data.checkout_session_id or "", data.payment_intent_id
    )
    async with deps.transaction() as repo:
        mail = domain.receipt(await _advance(repo, msg, ORDERS_QUEUE, "paid"), payment)
        await intend(repo, mail, msg, deps)
    await send_once(mail, msg, deps)


async def on_order_canceled(msg: Envelope[OrderCanceled], deps: Deps) -> None:
    async with deps.transaction() as repo:
        order = await _advance(repo, msg, ORDERS_QUEUE, "canceled")
        mail = domain.canceled(order, msg.data.reason, deps.base_url)
        await intend(repo, mail, msg, deps)
    await send_once(mail, msg, deps)


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
    async with deps.transaction() as repo:
        order = await _known(repo, msg)
        mail = domain.payment_parked(order, data.checkout_session_id, reason, deps.shop_email)
        await intend(repo, mail, msg, deps)
    await send_once(mail, msg, deps)


async def on_order_refunded(msg: Envelope[OrderRefunded], deps: Deps) -> None:
    # payment.refunded drives the refund e-mail (every refund, partial ones too): this only mirrors.
    async with deps.transaction() as repo:
        await _advance(repo, msg, ORDERS_QUEUE, "refunded")


async def on_payment_failed(msg: Envelope[PaymentFailed], deps: Deps) -> None:
    async with deps.transaction() as repo:
        order = await _known(repo, msg)
        mail = domain.payment_failed(order, msg.data.checkout_session_id, msg.data.reason, deps.base_url)
        if mail is not None:
            await intend(repo, mail, msg, deps)
    if mail is None:
        log.info("order %s is %s: no payment-failed e-mail (message %s)", order.id, order.status, msg.id)
        deps.metrics.emails.labels(domain.Template.PAYMENT_FAILED.value, "skipped").inc()
        return
    await send_once(mail, msg, deps)


async def on_payment_refunded(msg: Envelope[PaymentRefunded], deps: Deps) -> None:
    async with deps.transaction() as repo:
        if msg.data.fully_refunded:
            order = await _advance(repo, msg, PAYMENTS_QUEUE, "refunded")
        else:
            order = await _known(repo, msg)
        mail = domain.refund(order, msg.data.amount)
        await intend(repo, mail, msg, deps)
    await send_once(mail, msg, deps)


HANDLERS: Handlers[Deps] = {
    OrderCreated: on_order_created,
    OrderPaid: on_order_paid,
    OrderCanceled: on_order_canceled,
    OrderRefunded: on_order_refunded,
    OrderPaymentParked: on_order_payment_parked,
    PaymentFailed: on_payment_failed,
    PaymentRefunded: on_payment_refunded,
}
