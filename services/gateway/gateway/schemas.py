"""gateway schemas: what the gateway relies on from orders and payments, its public JSON shapes, and
the error answers routes document beside their success (OpenAPI `responses=`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from messaging.events.orders import OrderLine, OrderStatus

ORDER_EXAMPLE: JsonDict = {
    "id": "7f1c2e4a-5b6d-4e8f-9a0b-1c2d3e4f5a6b",
    "status": "pending",
    "email": "ada@example.com",
    "items": [
        {"product_id": "blue-mug", "name": "Blue mug", "quantity": 2, "unit_price": 1500, "line_total": 3000}
    ],
    "total": 3000,
    "currency": "eur",
    "created_at": "2025-01-31T12:00:00Z",
    "payment_deadline": "2025-01-31T13:00:00Z",
    "paid_at": None,
    "refunded_amount": 0,
    "checkout_session_id": None,
    "payment_intent_id": None,
}


class Product(BaseModel):
    """A product on sale; `price` is in minor units of `currency`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "blue-mug",
                    "name": "Blue mug",
                    "description": "Stoneware",
                    "price": 1500,
                    "currency": "eur",
                }
            ]
        }
    )
    id: str
    name: str
    description: str | None = None
    price: int
    currency: str


class OrderItemCreate(BaseModel):
    product_id: str = Field(min_length=1, max_length=200)
    # strict: "2" and true are not quantities (orders refuses them too; the gateway used to coerce them)
    quantity: int = Field(strict=True, ge=1, le=100)


class OrderCreate(BaseModel):
    """A new order; the orders service checks products, quantities and the address."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "items": [{"product_id": "blue-mug", "quantity": 2}]}]
        }
    )
    email: str = Field(max_length=320)
    items: list[OrderItemCreate] = Field(max_length=100)


class Order(BaseModel):
    """An order as the orders service reports it; amounts in minor units."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [ORDER_EXAMPLE]})
    id: UUID
    status: OrderStatus
    email: str
    items: list[OrderLine]
    total: int
    currency: str
    created_at: datetime
    payment_deadline: datetime | None = None
    paid_at: datetime | None = None
    refunded_amount: int | None = 0
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None


class CheckoutSession(BaseModel):
    """Where to send the customer to pay."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "cs_test_a1b2c3",
                    "checkout_url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
                }
            ]
        }
    )
    session_id: str
    checkout_url: str

    @field_validator("checkout_url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        # The gateway redirects browsers here: never to javascript: or data: urls.
        if not url.lower().startswith(("https://", "http://")):
            raise ValueError("checkout_url must be an http(s) url")
        return url


class SessionStatus(BaseModel):
    """A checkout session as payments reports it."""

    session_id: str
    order_id: UUID
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount: int | None = None  # minor units
    currency: str | None = None
    second_payment: bool = False  # paid after another session paid the order: refunded in full


class ErrorBody(BaseModel):
    """The gateway's own error body (upstream failures, oversize bodies, crashes)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"error": "upstream_unavailable", "detail": "orders is unreachable", "request_id": "3f9c0a7d"}
            ]
        }
    )
    error: str
    detail: str
    request_id: str


# --- the answers routes document beside their success, in one place --------------------------------

Responses = dict[int | str, dict[str, Any]]
_HTML: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
_ANY_JSON: dict[str, Any] = {"application/json": {"schema": {}}}

UPSTREAM_ERRORS: Responses = {
    502: {"model": ErrorBody, "description": "A service answered something unexpected"},
    503: {"model": ErrorBody, "description": "A service is unreachable"},
    504: {"model": ErrorBody, "description": "A service did not answer in time"},
}
# Checked before the route runs (runtime's limits, FastAPI's body parsing).
BODY_ERRORS: Responses = {
    400: {"description": "The body is not valid JSON or form data", "content": _ANY_JSON},
    408: {"model": ErrorBody, "description": "The body did not arrive in time"},
    413: {"model": ErrorBody, "description": "The body is larger than the gateway accepts"},
}
# Page routes: a browser (Accept: text/html) gets an error page, a program the JSON error body.
PAGE_UPSTREAM_ERRORS: Responses = {
    code: {"description": spec["description"], "content": {**_HTML, "application/json": {"schema": {}}}}
    for code, spec in UPSTREAM_ERRORS.items()
}
PAGE_BODY_ERRORS: Responses = {
    code: {"description": spec["description"], "content": {**_HTML, "application/json": {"schema": {}}}}
    for code, spec in BODY_ERRORS.items()
}


def page(code: int, description: str) -> Responses:
    """An HTML page answered with `code`."""
    return {code: {"description": description, "content": _HTML}}
