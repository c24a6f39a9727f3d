"""notifier: pure rules: which e-mail an event asks for, its identity, subject and content data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from messaging.events.orders import OrderLine, OrderStatus
from messaging.events.payments import PaymentMethod, Tax

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
    DUPLICATE_REFUND = "duplicate_refund"  # a second payment, refunded by payments
    REFUND_REVERSED = "refund_reversed"  # a refund failed or was canceled: the order is paid again
    DUPLICATE_REFUND_FAILED = "duplicate_refund_failed"  # the refund of a second payment did not go through
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
    refund_reversals: int = 0  # with the status, orders the news (messaging.events.orders.newer)

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
    method: PaymentMethod | None = None  # None: Stripe did not say
    tax: Tax | None = None  # None: the session charged no tax


@dataclass(frozen=True)
class Seller:
    """Who issues the invoice (SHOP_NAME, SHOP_ADDRESS, SHOP_TAX_ID)."""

    name: str
    address: tuple[str, ...] = ()
    tax_id: str | None = None


@dataclass(frozen=True)
class InvoiceNumber:
    """The shop's sequential invoice number: a series (SHOP_INVOICE_PREFIX) and its counter."""

    series: str
    seq: int

    def __str__(self) -> str:
        return f"{self.series}{self.seq:06d}"


# Stripe's names of card brands and payment method types, as a customer knows them.
_BRANDS = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "interac": "Interac",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}
_METHODS = {
    "acss_debit": "Pre-authorized debit",
    "au_becs_debit": "BECS Direct Debit",
    "bacs_debit": "Bacs Direct Debit",
    "bancontact": "Bancontact",
    "customer_balance": "Bank transfer",
    "eps": "EPS",
    "ideal": "iDEAL",
    "link": "Link",
    "p24": "Przelewy24",
    "paypal": "PayPal",
    "sepa_debit": "SEPA Direct Debit",
    "sofort": "Sofort",
    "us_bank_account": "ACH Direct Debit",
    "wechat_pay": "WeChat Pay",
}
_WALLETS = {
    "apple_pay": "Apple Pay",
    "google_pay": "Google Pay",
    "samsung_pay": "Samsung Pay",
    "link": "Link",
}


def method_label(method: PaymentMethod) -> str:
    """'Visa •••• 4242', 'SEPA Direct Debit •••• 3000', 'Mastercard •••• 4444 (Apple Pay)', 'Klarna'."""
    if method.type == "card":
        name = _BRANDS.get(method.brand or "", (method.brand or "card").replace("_", " ").title())
    else:
        name = _METHODS.get(method.type, method.type.replace("_", " ").title())
    label = f"{name} •••• {method.last4}" if method.last4 else name
    if method.wallet:
        label += f" ({_WALLETS.get(method.wallet, method.wallet.replace('_', ' ').title())})"
    return label


@dataclass(frozen=True)
class Mail:
    """One e-mail to send once: `kind` is its identity within the order."""

    order: Order
    kind: str
    template: Template
    subject: str
    links: dict[str, str] = field(default_factory=dict)
    payment: Payment | None = None  # set: attach a PDF invoice
    invoice: InvoiceNumber | None = None  # the invoice's number, assigned with the intent (services.intend)
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


def receipt(order: Order, payment: Payment, invoice: InvoiceNumber | None = None) -> Mail:
    """The receipt with its PDF invoice; the invoice's number comes with the intent (services.intend)."""
    subject = f"Payment received for order {order.ref}: your invoice"
    return Mail(order, "receipt", Template.RECEIPT, subject, payment=payment, invoice=invoice)


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


def refund(order: Order, refunded_so_far: int, gross: int) -> Mail:
    """Keyed by the gross refunded total (refunds that later failed included): each refund moves it,
    a duplicate event repeats it, and a refund issued again after one failed is a new e-mail."""
    subject = f"Refund issued for order {order.ref}"
    return Mail(order, f"refund.{gross}", Template.REFUND, subject, refunded=refunded_so_far)


def duplicate_refund(order: Order, checkout_session_id: str, amount: int) -> Mail:
    """One per second payment (its checkout session): payments refunded it in full."""
    subject = f"Your second payment for order {order.ref} was refunded"
    return Mail(
        order, f"duplicate_refund.{checkout_session_id}", Template.DUPLICATE_REFUND, subject, refunded=amount
    )


_REFUND_OUTCOME = {"failed": "the refund failed", "canceled": "the refund was canceled"}


def refund_reversed(
    order: Order,
    refund_id: str,
    amount: int,
    status: str,
    failure_reason: str | None,
    *,
    second_payment: bool,
) -> Mail:
    """One per refund that failed or was canceled (its Stripe id): the customer did not get the money."""
    template = Template.DUPLICATE_REFUND_FAILED if second_payment else Template.REFUND_REVERSED
    outcome = _REFUND_OUTCOME.get(status, f"the refund is {status}")
    reason = f"{outcome} ({failure_reason.replace('_', ' ')})" if failure_reason else outcome
    subject = f"Refund for order {order.ref} did not go through"
    return Mail(order, f"{template.value}.{refund_id}", template, subject, refunded=amount, reason=reason)


def payment_parked(order: Order, session_id: str, reason: str, shop_email: str) -> Mail:
    """To the shop: a payment orders parked for review (not the order's amount or currency). One per
    checkout session: a repeat of the same event is the same e-mail."""
    subject = f"Payment for order {order.ref} parked for review"
    return Mail(
        order, f"payment_parked.{session_id}", Template.PAYMENT_PARKED, subject, reason=reason, to=shop_email
    )
