"""Events the orders service publishes on `orders.events`."""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from messaging.event import Event


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    product_id: str
    name: str
    quantity: int
    unit_price: int  # minor units
    line_total: int


class _OrderEvent(Event):
    order_id: UUID
    status: str
    email: str
    total: int  # minor units
    currency: str


class OrderCreated(_OrderEvent):
    routing_key: ClassVar[str] = "order.created"
    lines: tuple[OrderLine, ...] = ()
    payment_deadline: datetime | None = None


class OrderPaid(_OrderEvent):
    routing_key: ClassVar[str] = "order.paid"
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    paid_at: datetime | None = None


class OrderCanceled(_OrderEvent):
    routing_key: ClassVar[str] = "order.canceled"
    reason: str | None = None


class OrderRefunded(_OrderEvent):
    routing_key: ClassVar[str] = "order.refunded"
    amount_refunded: int = 0


class OrderPaymentParked(_OrderEvent):
    """A payment that does not match the order (amount or currency) was parked for a person to review;
    the order did not move. `amount` and `payment_currency` are the payment's, `total` the order's."""

    routing_key: ClassVar[str] = "order.payment_parked"
    checkout_session_id: str
    payment_intent_id: str | None = None
    amount: int | None = None  # None: the payment did not say (a refund without its captured amount)
    payment_currency: str
    reason: str
