"""Events the payments service publishes on `payments.events` and `payments.broadcast`, and the
payment's value types (how it was paid, the tax it included) that orders copies onto `order.paid`."""

from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from messaging.event import Event

__all__ = [
    "PaymentExpired",
    "PaymentFailed",
    "PaymentMethod",
    "PaymentPending",
    "PaymentRefunded",
    "PaymentSucceeded",
    "Tax",
    "TaxLine",
]


class PaymentMethod(BaseModel):
    """How the customer paid, as Stripe's charge reports it (`payment_method_details`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    type: str = Field(min_length=1)  # Stripe's payment method type: card, sepa_debit, us_bank_account, ...
    brand: str | None = None  # a card's network brand as Stripe names it: visa, mastercard, amex, ...
    last4: str | None = None  # of the card number, IBAN or account number
    wallet: str | None = None  # a card paid through a wallet: apple_pay, google_pay, link, ...


class TaxLine(BaseModel):
    """One tax rate applied to the payment: Stripe's `total_details.breakdown.taxes[]`."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    display_name: str  # "VAT", "Sales tax"
    percentage: Decimal | None = None  # 19.0 for 19 %
    inclusive: bool = False  # included in the prices (EU consumer prices) or added on top
    amount: int  # minor units
    taxable_amount: int | None = None
    jurisdiction: str | None = None  # "DE", "California"


class Tax(BaseModel):
    """The tax a Checkout Session charged: `total_details.amount_tax`, and its lines when Stripe gave them."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    amount: int  # minor units
    lines: tuple[TaxLine, ...] = ()


class _PaymentEvent(Event):
    order_id: UUID
    stripe_event_id: str
    checkout_session_id: str
    amount: int  # minor units
    currency: str
    payment_intent_id: str | None = None


class PaymentSucceeded(_PaymentEvent):
    routing_key: ClassVar[str] = "payment.succeeded"
    payment_method: PaymentMethod | None = None  # None: Stripe did not say (or an older producer)
    tax: Tax | None = None  # None: the session charged no tax


class PaymentPending(_PaymentEvent):
    """Checkout completed with a delayed method: not settled yet."""

    routing_key: ClassVar[str] = "payment.pending"


class PaymentFailed(_PaymentEvent):
    routing_key: ClassVar[str] = "payment.failed"
    reason: str | None = None


class PaymentExpired(_PaymentEvent):
    routing_key: ClassVar[str] = "payment.expired"


class PaymentRefunded(_PaymentEvent):
    """`amount` is what was refunded so far in total (net of refunds that failed or were canceled);
    `fully_refunded` tells a full refund. `amount + amount_reversed` (the gross) only grows, and so
    does `amount_reversed`: a consumer keeps the largest of each, whatever order they arrive in."""

    routing_key: ClassVar[str] = "payment.refunded"
    amount_captured: int | None = None
    fully_refunded: bool = False
    amount_reversed: int = 0  # refunds of this payment that failed or were canceled, in total


class PaymentRefundReversed(_PaymentEvent):
    """A refund that Stripe had taken failed or was canceled: the money stayed with the shop.

    `amount` and `amount_reversed` are the payment's totals after it, as on `payment.refunded`;
    `refund_amount` is this refund's. `second_payment`: the refund of a second payment (the order was
    paid by another session and stays paid; a person must look)."""

    routing_key: ClassVar[str] = "payment.refund_reversed"
    amount_reversed: int
    refund_id: str
    refund_amount: int
    refund_status: str  # failed or canceled
    failure_reason: str | None = None
    second_payment: bool = False


class PaymentDuplicateRefunded(_PaymentEvent):
    """A second successful payment for an order another session already paid: payments refunded it
    in full through Stripe (`refund_id`); the order stays paid by `paid_by_checkout_session_id`.
    `checkout_session_id`, `amount` and `currency` are the second payment's."""

    routing_key: ClassVar[str] = "payment.duplicate_refunded"
    refund_id: str
    refund_status: (
        str  # Stripe's: pending, requires_action, succeeded (failed/canceled follow as their own event)
    )
    paid_by_checkout_session_id: str
