"""Orders HTTP models: what the API accepts (XCreate) and returns (XPublic); rows never leave a route."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from orders.domain import MAX_LINES, MAX_QUANTITY, Order, ParkedReview, Product

ProductId = Annotated[str, Field(min_length=1, max_length=64, examples=["prod_coffee"])]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: ProductId
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class OrderCreate(BaseModel):
    """Only what the customer chooses: prices and totals come from the catalogue."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    items: list[ItemCreate] = Field(min_length=1, max_length=MAX_LINES)


class ProductPublic(BaseModel):
    id: str
    name: str
    description: str
    price: int  # minor units
    currency: str

    @classmethod
    def of(cls, product: Product) -> ProductPublic:
        return cls.model_validate(product, from_attributes=True)


class ItemPublic(BaseModel):
    product_id: str
    name: str
    quantity: int
    unit_price: int
    line_total: int


class OrderPublic(BaseModel):
    id: UUID
    status: str
    email: str
    items: list[ItemPublic]
    total: int
    currency: str
    created_at: datetime
    payment_deadline: datetime
    paid_at: datetime | None
    refunded_amount: int
    checkout_session_id: str | None
    payment_intent_id: str | None

    @classmethod
    def of(cls, order: Order) -> OrderPublic:
        return cls(
            id=order.id,
            status=order.status.value,
            email=order.email,
            items=[ItemPublic.model_validate(line, from_attributes=True) for line in order.lines],
            total=order.total,
            currency=order.currency,
            created_at=order.created_at,
            payment_deadline=order.payment_deadline,
            paid_at=order.paid_at,
            refunded_amount=order.refunded_amount,
            checkout_session_id=order.checkout_session_id,
            payment_intent_id=order.payment_intent_id,
        )


class PaymentReviewPublic(BaseModel):
    """A payment parked because it does not match its order: the order was not marked paid."""

    id: int
    order_id: UUID
    reason: str  # amount_mismatch, refund_of_unmatched_payment
    message_id: str
    kind: str  # the payment event: payment.succeeded, payment.refunded
    checkout_session_id: str
    payment_intent_id: str | None
    amount: int | None  # minor units, as the payment stated them
    currency: str
    expected_amount: int
    expected_currency: str
    created_at: datetime

    @classmethod
    def of(cls, parked: ParkedReview) -> PaymentReviewPublic:
        r = parked.review
        return cls(
            id=parked.id,
            order_id=r.order_id,
            reason=r.reason,
            message_id=parked.message_id,
            kind=parked.kind,
            checkout_session_id=r.session_id,
            payment_intent_id=r.payment_intent_id,
            amount=r.amount,
            currency=r.currency,
            expected_amount=r.expected_amount,
            expected_currency=r.expected_currency,
            created_at=parked.created_at,
        )
