"""notifier: pure rules: which e-mail an event asks for, its identity, subject and content data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from messaging.events.orders import OrderLine, OrderStatus

MESSAGE_ID_DOMAIN = "paybus"


class EmailState(StrEnum):
    INTENDED = "intended"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # beyond MAIL_PER_ADDRESS_PER_HOUR: recorded, never sent


class Template(StrEnum):
    """The template pair (text and HTML) of each kind of e-mail."""

    CONFIRMATION = "confirmation"
    RECEIPT = "receipt"
    PAYMENT_FAILED = "payment_failed"
    CANCELED = "canceled"
    REFUND = "refund"
    PAYMENT_PARKED = "payment_parked"  # to the shop, not the customer


def intent_state(sent_recently: int, per_hour: int) -> EmailState:
    """An e-mail of a kind to an address that got `sent_recently` of that kind in the last hour."""
    return EmailState.HELD if sent_recently >= per_hour else EmailState.INTENDED


class OrderNotKnown(LookupError):
    """A payment event (from payments' fanout) for an order no order event has told us of yet: retry
    later. Order events never raise it: each carries the order."""


@dataclass(frozen=True)
class Order:
    """The notifier's projection of an order: what its e-mails show, kept from the order events."""

    id: UUID
    email: str
    lines: tuple[OrderLine, ...]
    total: int
    currency: str
    status: OrderStatus
    created_at: datetime  # when the notifier first heard of it
    payment_deadline: datetime | None = None

    @property
    def ref(self) -> str:
        """The short reference customers see."""
        return str(self.id)[:8].upper()


@dataclass(frozen=True)
class Payment:
    """What an invoice needs to know about the payment."""

    amount: int
    currency: str
    paid_at: datetime
    checkout_session_id: str
    payment_intent_id: str | None = None


@dataclass(frozen=True)
class Mail:
    """One e-mail to send once: `kind` is its identity within the order."""

    order: Order
    kind: str
    template: Template
    subject: str
    links: dict[str, str] = field(default_factory=dict)
    payment: Payment | None = None  # set: attach a PDF invoice
    refunded: int | None = None
    reason: str | None = None
    to: str | None = None  # None: the customer

    @property
    def message_id(self) -> str:
        return message_id(self.kind, self.order.id)

    @property
    def recipient(self) -> str:
        return self.to or self.order.email


def message_id(kind: str, order_id: UUID) -> str:
    """Deterministic, so a receiving server can drop the copy a crash between send and record makes."""
    return f"<{kind}.{order_id}@{MESSAGE_ID_DOMAIN}>"


def order_page(base_url: str, order: Order) -> str:
    return f"{base_url}/orders/{order.id}"


def confirmation(order: Order, base_url: str) -> Mail:
    subject = f"We received your order {order.ref}"
    return Mail(order, "confirmation", Template.CONFIRMATION, subject, {"order": order_page(base_url, order)})


def receipt(order: Order, payment: Payment) -> Mail:
    subject = f"Payment received for order {order.ref}: your invoice"
    return Mail(order, "receipt", Template.RECEIPT, subject, payment=payment)


def payment_failed(order: Order, checkout_session_id: str, reason: str | None, base_url: str) -> Mail:
    """One e-mail per failed checkout session (orders publishes the failure only for an unpaid order)."""
    kind = f"payment_failed.{checkout_session_id}"
    subject = f"Payment for order {order.ref} failed"
    links = {"pay": order_page(base_url, order)}
    return Mail(order, kind, Template.PAYMENT_FAILED, subject, links, reason=reason)


def canceled(order: Order, reason: str | None, base_url: str) -> Mail:
    subject = f"Order {order.ref} canceled"
    links = {"order": order_page(base_url, order)}
    return Mail(order, "canceled", Template.CANCELED, subject, links, reason=reason)


def refund(order: Order, refunded_so_far: int) -> Mail:
    """Keyed by the running refunded total: each refund moves it, a duplicate event repeats it."""
    subject = f"Refund issued for order {order.ref}"
    return Mail(order, f"refund.{refunded_so_far}", Template.REFUND, subject, refunded=refunded_so_far)


def payment_parked(order: Order, session_id: str, reason: str, shop_email: str) -> Mail:
    """To the shop: a payment orders parked for review (not the order's amount or currency). One per
    checkout session: a repeat of the same event is the same e-mail."""
    subject = f"Payment for order {order.ref} parked for review"
    return Mail(
        order, f"payment_parked.{session_id}", Template.PAYMENT_PARKED, subject, reason=reason, to=shop_email
    )
