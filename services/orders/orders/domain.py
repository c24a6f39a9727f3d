"""Orders domain: catalogue pricing and the forward-only payment state machine; no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from messaging.event import Event
from messaging.events.orders import (
    OrderCanceled,
    OrderCreated,
    OrderLine,
    OrderPaid,
    OrderPaymentFailed,
    OrderPaymentParked,
    OrderRefunded,
    OrderRefundReversed,
    OrderStatus,
)
from messaging.events.payments import PaymentMethod, Tax


class Session(StrEnum):
    """What the orders service heard of one Checkout session."""

    IN_FLIGHT = "in_flight"  # payment.pending: completed, a delayed payment is on its way
    FAILED = "failed"
    EXPIRED = "expired"
    SUCCEEDED = "succeeded"


MAX_LINES = 50
MAX_QUANTITY = 100


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    description: str
    price: int  # minor units
    currency: str
    active: bool = True


@dataclass(frozen=True)
class Order:
    id: UUID
    status: OrderStatus
    email: str
    lines: tuple[OrderLine, ...]
    total: int
    currency: str
    created_at: datetime
    payment_deadline: datetime
    paid_at: datetime | None = None
    canceled_at: datetime | None = None
    cancel_reason: str | None = None
    refunded_amount: int = 0
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    sessions: Mapping[str, Session] = field(default_factory=dict)
    deadline_reached: bool = False
    refund_reversed_amount: int = 0  # refunds that failed or were canceled; refunded_amount is net of them
    refund_reversals: int = 0  # order.refund_reversed events published (order events carry it)

    @property
    def payment_in_flight(self) -> bool:
        return Session.IN_FLIGHT in self.sessions.values()


@dataclass(frozen=True)
class Payment:
    """The facts of one payment event that the state machine uses."""

    session_id: str
    payment_intent_id: str | None
    amount: int
    at: datetime
    currency: str
    captured: int | None = None  # a refund's charge: what was captured in the first place
    reason: str | None = None  # a failure's, as Stripe gave it
    method: PaymentMethod | None = None  # a success's: how Stripe says it was paid (for the invoice)
    tax: Tax | None = None  # a success's: the tax the session charged (for the invoice)
    reversed: int = 0  # a refund event's: refunds of the payment that failed or were canceled, in total


@dataclass(frozen=True)
class Reversal:
    """One refund that failed or was canceled at Stripe, as payment.refund_reversed names it."""

    refund_id: str
    amount: int
    status: str


@dataclass(frozen=True)
class Review:
    """A payment that does not match its order: parked for a person, never applied (issue 13)."""

    order_id: UUID
    session_id: str
    payment_intent_id: str | None
    amount: int | None  # None: the payment did not say (a refund without its captured amount)
    currency: str
    expected_amount: int
    expected_currency: str
    reason: str


@dataclass(frozen=True)
class ParkedReview:
    """A stored Review: which message it parked, and when."""

    id: int
    message_id: str
    kind: str
    created_at: datetime
    review: Review


@dataclass(frozen=True)
class Outcome:
    """The order after an event, the order events to publish for it (in order), and a review if any."""

    order: Order
    events: tuple[Event, ...] = ()
    review: Review | None = None


@dataclass(frozen=True)
class Problem:
    """One reason an order request is refused: which line, which field, and why."""

    line: int
    field: str
    message: str
    value: str


class InvalidOrder(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


# --- placing an order ---------------------------------------------------------------------------


def _check_line(index: int, product_id: str, product: Product | None, currency: str | None) -> Problem | None:
    if product is None:
        return Problem(index, "product_id", f"unknown product {product_id!r}", product_id)
    if not product.active:
        return Problem(index, "product_id", f"product {product_id!r} is no longer sold", product_id)
    if currency is not None and product.currency != currency:
        message = (
            f"product {product_id!r} is priced in {product.currency}, this order is in {currency}: "
            "one currency per order"
        )
        return Problem(index, "product_id", message, product_id)
    return None


def price_lines(items: Sequence[tuple[str, int]], catalogue: Mapping[str, Product]) -> tuple[OrderLine, ...]:
    """Lines priced from the catalogue; raise InvalidOrder naming every refused line.

    The first line's product fixes the currency. A product on two lines is refused, not merged, so
    that what the customer sent is exactly what is stored.
    """
    problems: list[Problem] = []
    lines: list[OrderLine] = []
    currency: str | None = None
    for index, (product_id, quantity) in enumerate(items):
        product = catalogue.get(product_id)
        problem = _check_line(index, product_id, product, currency)
        if problem is None and any(line.product_id == product_id for line in lines):
            message = f"product {product_id!r} appears on two lines: put the whole quantity on one line"
            problem = Problem(index, "product_id", message, product_id)
        if problem is not None:
            problems.append(problem)
            continue
        assert product is not None  # _check_line refused the unknown ones
        currency = product.currency
        lines.append(
            OrderLine(
                product_id=product.id,
                name=product.name,
                quantity=quantity,
                unit_price=product.price,
                line_total=product.price * quantity,
            )
        )
    if problems:
        raise InvalidOrder(problems)
    return tuple(lines)


def new_order(
    order_id: UUID,
    email: str,
    lines: tuple[OrderLine, ...],
    catalogue: Mapping[str, Product],
    *,
    now: datetime,
    ttl: float,
) -> Order:
    currency = catalogue[lines[0].product_id].currency
    return Order(
        id=order_id,
        status=OrderStatus.PENDING,
        email=email,
        lines=lines,
        total=sum(line.line_total for line in lines),
        currency=currency,
        created_at=now,
        payment_deadline=now + timedelta(seconds=ttl),
    )


def created(order: Order) -> OrderCreated:
    return OrderCreated(**_base(order))


# --- the payment state machine ------------------------------------------------------------------


def _base(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id,
        "status": order.status.value,
        "email": order.email,
        "total": order.total,
        "currency": order.currency,
        "lines": order.lines,
        "payment_deadline": order.payment_deadline,
        "refund_reversals": order.refund_reversals,
    }


def _hear(order: Order, session_id: str, state: Session) -> Order:
    """Record a session's news; a session never goes back to in flight once it has ended."""
    known = order.sessions.get(session_id)
    if known is not None and (known is not Session.IN_FLIGHT or state is Session.IN_FLIGHT):
        return order
    return dataclasses.replace(order, sessions={**order.sessions, session_id: state})


def _ids(order: Order, payment: Payment) -> Order:
    """Stripe's ids of the latest attempt; once paid, the paying session's ids stay."""
    if order.status.rank >= OrderStatus.PAID.rank:
        return order
    return dataclasses.replace(
        order,
        checkout_session_id=payment.session_id,
        payment_intent_id=payment.payment_intent_id or order.payment_intent_id,
    )


def _paid(order: Order, payment: Payment) -> Outcome:
    paid = dataclasses.replace(_ids(order, payment), status=OrderStatus.PAID, paid_at=payment.at)
    event = OrderPaid(
        **_base(paid),
        checkout_session_id=paid.checkout_session_id,
        payment_intent_id=paid.payment_intent_id,
        paid_at=paid.paid_at,
        payment_method=payment.method,
        tax=payment.tax,
    )
    return Outcome(paid, (event,))


def _cancel(order: Order, reason: str, at: datetime) -> Outcome:
    canceled = dataclasses.replace(order, status=OrderStatus.CANCELED, canceled_at=at, cancel_reason=reason)
    return Outcome(canceled, (OrderCanceled(**_base(canceled), reason=reason),))


def payment_pending(order: Order, payment: Payment) -> Outcome:
    """A delayed method is settling: remember the session; the status stays."""
    return Outcome(_ids(_hear(order, payment.session_id, Session.IN_FLIGHT), payment))


def _review(order: Order, payment: Payment, amount: int | None, reason: str) -> Review | None:
    """None when `amount` in the payment's currency is exactly the order's total, else a Review."""
    if amount == order.total and payment.currency.lower() == order.currency.lower():
        return None
    return Review(
        order.id, payment.session_id, payment.payment_intent_id, amount, payment.currency, order.total,
        order.currency, reason,
    )  # fmt: skip


def _parked(order: Order, review: Review) -> Outcome:
    """The order stays as it is; the review is stored and announced (the shop is mailed about it)."""
    event = OrderPaymentParked(
        **_base(order),
        checkout_session_id=review.session_id,
        payment_intent_id=review.payment_intent_id,
        amount=review.amount,
        payment_currency=review.currency,
        reason=review.reason,
    )
    return Outcome(order, (event,), review=review)


def payment_succeeded(order: Order, payment: Payment) -> Outcome:
    """Paid, from pending, payment_failed, and also canceled: the money moved (README).

    Only a payment of exactly the order's total in its currency pays it; any other is parked for review
    and the order does not move (the orders service owns the amount; issue 13, finding 1).
    """
    if (review := _review(order, payment, payment.amount, "amount_mismatch")) is not None:
        return _parked(order, review)
    order = _hear(order, payment.session_id, Session.SUCCEEDED)
    if order.status.rank >= OrderStatus.PAID.rank:
        return Outcome(order)
    return _paid(order, payment)


def payment_failed(order: Order, payment: Payment) -> Outcome:
    order = _hear(order, payment.session_id, Session.FAILED)
    if not order.status.unpaid:
        return Outcome(order)
    if order.deadline_reached and not order.payment_in_flight:
        return _cancel(order, "payment_deadline", payment.at)  # the deadline waited for this outcome
    failed = dataclasses.replace(_ids(order, payment), status=OrderStatus.PAYMENT_FAILED)
    event = OrderPaymentFailed(**_base(failed), checkout_session_id=payment.session_id, reason=payment.reason)
    return Outcome(failed, (event,))


def payment_expired(order: Order, payment: Payment) -> Outcome:
    """The customer left a session unpaid: cancel unless another payment is still on its way."""
    order = _hear(order, payment.session_id, Session.EXPIRED)
    if not order.status.unpaid or order.payment_in_flight:
        return Outcome(order)
    return _cancel(order, "checkout_expired", payment.at)


def payment_refunded(order: Order, payment: Payment, *, full: bool) -> Outcome:
    """A refund proves a payment: an unpaid order becomes paid first, then refunded if in full.

    The payment it proves must have captured exactly the order's total; else it is parked for review.
    """
    events: tuple[Event, ...] = ()
    if order.status.rank < OrderStatus.PAID.rank:
        if (review := _review(order, payment, payment.captured, "refund_of_unmatched_payment")) is not None:
            return _parked(order, review)
        paid = _paid(order, payment)
        order, events = paid.order, paid.events
    refunds = _refunds(order, payment, full=full, reversal=None)
    return Outcome(refunds.order, events + refunds.events)


def refund_reversed(order: Order, payment: Payment, reversal: Reversal) -> Outcome:
    """A refund of the order's payment failed or was canceled: the money stayed with the shop.

    The one explicit exception to forward-only: the refunded amount goes back down, and a refunded
    order whose refunds no longer cover its total is paid again. Each reversal is counted
    (`refund_reversals`, carried by every order event) so consumers order the news. Totals only grow
    (gross and reversed), so a copy or a late event changes nothing; an unpaid order keeps the totals
    for when its payment.succeeded arrives.
    """
    if order.status.rank < OrderStatus.PAID.rank:
        return Outcome(_refund_totals(order, payment))
    return _refunds(order, payment, full=False, reversal=reversal)


def _refund_totals(order: Order, payment: Payment) -> Order:
    """Keep the largest gross (net + reversed) and reversed totals heard: reorder-safe."""
    gross = max(order.refunded_amount + order.refund_reversed_amount, payment.amount + payment.reversed)
    reversed_ = max(order.refund_reversed_amount, payment.reversed)
    return dataclasses.replace(order, refunded_amount=gross - reversed_, refund_reversed_amount=reversed_)


def _refunds(order: Order, payment: Payment, *, full: bool, reversal: Reversal | None) -> Outcome:
    """A paid or refunded order after a refund event: reversal first (back to paid), then refunded."""
    before, order = order, _refund_totals(order, payment)
    events: tuple[Event, ...] = ()
    if order.refund_reversed_amount > before.refund_reversed_amount:
        back = order.status is OrderStatus.REFUNDED and order.refunded_amount < order.total
        order = dataclasses.replace(
            order,
            status=OrderStatus.PAID if back else order.status,
            refund_reversals=order.refund_reversals + 1,
        )
        events += (
            OrderRefundReversed(
                **_base(order),
                amount_refunded=order.refunded_amount,
                refund_id=reversal.refund_id if reversal else None,
                refund_amount=reversal.amount if reversal else None,
                refund_status=reversal.status if reversal else None,
            ),
        )
    full = full and order.refunded_amount == payment.amount  # a stale "full" after a reversal is not
    if order.status is OrderStatus.PAID and (full or order.refunded_amount >= order.total):
        order = dataclasses.replace(order, status=OrderStatus.REFUNDED)
        events += (OrderRefunded(**_base(order), amount_refunded=order.refunded_amount),)
    return Outcome(order, events)


def deadline_reached(order: Order, at: datetime) -> Outcome:
    """Cancel an unpaid order, unless a payment is on its way: then its failure cancels it."""
    order = dataclasses.replace(order, deadline_reached=True)
    if not order.status.unpaid or order.payment_in_flight:
        return Outcome(order)
    return _cancel(order, "payment_deadline", at)
