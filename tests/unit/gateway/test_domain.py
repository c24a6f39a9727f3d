"""The gateway's pure rules: the order form, orders' 422 messages, payability (money: tests/unit/money)."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import JsonValue

from gateway import domain
from gateway.schemas import OrderCreate, OrderItemCreate, Product
from tests.support.gateway import InMemoryUpstreams

PRODUCTS = [
    Product(id="a", name="A", price=1, currency="eur"),
    Product(id="b", name="B", price=1, currency="eur"),
]


def test_the_form_becomes_an_order_of_the_chosen_products():
    form = domain.read_order_form([("email", " ada@example.com "), ("qty-a", "2"), ("qty-b", ""), ("x", "1")])
    order, errors = domain.order_from_form(form, PRODUCTS)
    assert errors == {}
    assert order == OrderCreate(email="ada@example.com", items=[OrderItemCreate(product_id="a", quantity=2)])


# "\u0663" is Arabic-Indic 3 and "\uff19" fullwidth 9: str.isdecimal() accepts both.
@pytest.mark.parametrize("typed", ["-1", "1.5", "101", "1e3", "\u0663", "\uff19"])
def test_quantities_must_be_whole_numbers_up_to_100(typed):
    order, errors = domain.order_from_form(domain.OrderForm("a@b.c", {"a": typed}), PRODUCTS)
    assert order is None
    assert errors == {"qty-a": "Enter a whole number from 0 to 100."}


def test_upstream_messages_map_fastapi_locations_to_form_fields():
    order = OrderCreate(email="x", items=[OrderItemCreate(product_id="a", quantity=1)])
    body: JsonValue = {
        "detail": [
            {"loc": ["body", "email"], "msg": "Bad address."},
            {"loc": ["body", "items", 0, "quantity"], "msg": "Too many."},
            {"loc": ["body", "items", 0, "product_id"], "msg": "Sold out."},
            {"loc": ["body", "items", 7], "msg": "Stale."},
            {"loc": ["query", "x"], "msg": "Odd."},
            "not an entry",
        ]
    }
    assert domain.upstream_messages(body, order) == {
        "email": "Bad address.",
        "qty-a": "Too many. Sold out.",
        "items": "Stale.",
        "form": "Odd.",
    }
    assert domain.upstream_messages({"detail": "Shop closed"}, order) == {"form": "Shop closed"}
    assert "form" in domain.upstream_messages(["weird"], order)


def test_payable_means_pending_or_failed_before_the_deadline():
    now = datetime.now(UTC)
    fake = InMemoryUpstreams()
    for status, deadline, expected in [
        ("pending", now + timedelta(minutes=1), True),
        ("payment_failed", None, True),
        ("pending", now - timedelta(seconds=1), False),
        ("paid", None, False),
        ("pending", (now + timedelta(minutes=1)).replace(tzinfo=None), True),  # naive: read as UTC
        ("pending", (now - timedelta(minutes=1)).replace(tzinfo=None), False),
        ("refunded", None, False),
    ]:
        order = fake.add_order("a@b.c", [], status=status, payment_deadline=deadline)
        assert domain.payable(order, now) is expected, (status, deadline)
