"""gateway rules for the shop pages: payability, the order form, upstream error messages; no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import JsonValue

from gateway.schemas import Order, OrderCreate, OrderItemCreate, Product
from messaging.events import orders as events

QTY_PREFIX = "qty-"
MAX_QUANTITY = 100  # as the orders service allows
# Seconds between reloads of the completed page while the order is pending: quick at first, then gentle.
REFRESH_SCHEDULE = (1, 1, 2, 2, 3, 5, 8, 13, 21, 30)
_SESSION_ID = re.compile(r"[A-Za-z0-9_]{1,200}")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,3}")  # ASCII only: isdecimal() also takes "٣"


def parse_uuid(value: str) -> UUID | None:
    """Order ids are UUIDs; anything else is unknown and never reaches a service."""
    try:
        return UUID(value)
    except ValueError:
        return None


def valid_session_id(value: str) -> bool:
    return _SESSION_ID.fullmatch(value) is not None


def payable(order: Order, now: datetime) -> bool:
    """What payments accepts (messaging.events.orders.payable): offer the pay button only then."""
    return events.payable(order.status, order.payment_deadline, now)


def refresh_attempt(typed: str) -> int:
    """The completed page's `attempt` query parameter; junk counts as a first visit."""
    return int(typed) if _WHOLE_NUMBER.fullmatch(typed) else 0


def refresh_delay(attempt: int) -> int:
    return REFRESH_SCHEDULE[min(max(attempt, 0), len(REFRESH_SCHEDULE) - 1)]


@dataclass(frozen=True)
class OrderForm:
    """The shop form as submitted: kept to re-render it with messages."""

    email: str
    quantities: dict[str, str]  # product id -> what was typed


def read_order_form(fields: Iterable[tuple[str, str]]) -> OrderForm:
    email = ""
    quantities: dict[str, str] = {}
    for name, value in fields:
        if name == "email":
            email = value.strip()
        elif name.startswith(QTY_PREFIX):
            quantities[name.removeprefix(QTY_PREFIX)] = value.strip()
    return OrderForm(email=email, quantities=quantities)


def order_from_form(form: OrderForm, products: list[Product]) -> tuple[OrderCreate | None, dict[str, str]]:
    """The order to create, or messages by form field (`email`, `items`, `qty-<product id>`)."""
    errors: dict[str, str] = {}
    if not form.email:
        errors["email"] = "Enter your e-mail address."
    elif "@" not in form.email or len(form.email) > 320:
        errors["email"] = "Enter an e-mail address like name@example.com."
    items: list[OrderItemCreate] = []
    for product in products:
        typed = form.quantities.get(product.id, "")
        quantity = _quantity(typed)
        if quantity is None:
            errors[QTY_PREFIX + product.id] = f"Enter a whole number from 0 to {MAX_QUANTITY}."
        elif quantity:
            items.append(OrderItemCreate(product_id=product.id, quantity=quantity))
    if not items and not any(key.startswith(QTY_PREFIX) for key in errors):
        errors["items"] = "Choose at least one product."
    if errors:
        return None, errors
    return OrderCreate(email=form.email, items=items), {}


def _quantity(typed: str) -> int | None:
    if not typed:
        return 0
    if not _WHOLE_NUMBER.fullmatch(typed):
        return None
    value = int(typed)
    return value if value <= MAX_QUANTITY else None


def upstream_messages(body: JsonValue, order: OrderCreate) -> dict[str, str]:
    """Per-field messages from orders' 422: FastAPI's {"detail": [{"loc", "msg"}]} or {"detail": "..."}."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return {"form": detail}
    messages: dict[str, str] = {}
    for entry in detail if isinstance(detail, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("msg"), str):
            key = _form_field(entry.get("loc"), order)
            messages[key] = f"{messages[key]} {entry['msg']}" if key in messages else str(entry["msg"])
    return messages or {"form": "The order was not accepted. Check the form and try again."}


def _form_field(loc: JsonValue, order: OrderCreate) -> str:
    """`email`, the quantity field of the item the message is about, `items`, or `form`."""
    parts = [part for part in loc if part != "body"] if isinstance(loc, list) else []
    if parts[:1] == ["email"]:
        return "email"
    if parts[:1] != ["items"]:
        return "form"
    index = parts[1] if len(parts) > 1 else None
    if isinstance(index, int) and 0 <= index < len(order.items):
        return QTY_PREFIX + order.items[index].product_id
    return "items"
