"""Handlers on the in-memory repository: inbox, outbox, correlation ids, unknown orders."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from messaging.events.orders import OrderCreated, OrderPaid
from messaging.events.payments import PaymentMethod, Tax, TaxLine
from orders import services
from orders.handlers import HANDLERS, OrderNotFound
from orders.messages import PaymentDeadlineReached
from tests.support.events import payment_event
from tests.support.orders import Clock, Store, make_deps, snapshot


async def test_placing_an_order_queues_order_created_and_a_deadline_check_correlated_by_order_id() -> None:
    store = Store()
    order = await services.place_order(
        make_deps(store, ttl=90), "ada@example.com", [("prod_coffee", 2), ("prod_mug", 1)]
    )
    created, check = store.broker.messages
    assert (created.queue, created.envelope.type) == (None, OrderCreated.routing_key)
    assert created.envelope.correlation_id == str(order.id)
    assert created.envelope.data.model_dump(exclude={"lines"}) == {
        "order_id": order.id,
        "status": "pending",
        "email": "ada@example.com",
        "total": 4700,
        "currency": "eur",
        "payment_deadline": order.payment_deadline,
        "refund_reversals": 0,
    }
    assert [(x.product_id, x.quantity, x.line_total) for x in created.envelope.data.lines] == [
        ("prod_coffee", 2, 2900),
        ("prod_mug", 1, 1800),
    ]
    assert (check.queue, check.delay, check.envelope.type) == (
        "orders.deadlines",
        90,
        PaymentDeadlineReached.routing_key,
    )
    assert check.envelope.correlation_id == str(order.id)
    assert check.envelope.causation_id == str(created.envelope.id)


async def test_payment_succeeded_marks_the_order_paid_and_publishes_order_paid_with_its_email() -> None:
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    store.broker.clear()
    incoming = payment_event("succeeded", order.id, session="cs_42")
    await store.broker.deliver(incoming, HANDLERS, deps)
    paid = store.orders[order.id]
    assert (paid.status.value, paid.checkout_session_id, paid.payment_intent_id) == (
        "paid",
        "cs_42",
        "pi_cs_42",
    )
    (published,) = store.broker.published
    assert published.type == OrderPaid.routing_key
    assert (published.correlation_id, published.causation_id) == (str(order.id), str(incoming.id))
    assert published.data.email == "ada@example.com"
    assert published.data.paid_at == incoming.occurred_at


async def test_order_paid_copies_the_payment_method_and_tax_for_the_invoice() -> None:
    """The notifier prints them from order.paid alone: no join with payments' events."""
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    store.broker.clear()
    method = PaymentMethod(type="sepa_debit", last4="3000")
    tax = Tax(
        amount=463, lines=(TaxLine(display_name="VAT", percentage=Decimal("19"), inclusive=True, amount=463),)
    )
    incoming = payment_event("succeeded", order.id)
    incoming = incoming.model_copy(
        update={"data": incoming.data.model_copy(update={"payment_method": method, "tax": tax})}
    )
    await store.broker.deliver(incoming, HANDLERS, deps)
    (published,) = store.broker.published
    assert (published.data.payment_method, published.data.tax) == (method, tax)


async def test_an_order_paid_from_an_older_payment_event_says_no_method() -> None:
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    store.broker.clear()
    await store.broker.deliver(payment_event("succeeded", order.id), HANDLERS, deps)
    (published,) = store.broker.published
    assert (published.data.payment_method, published.data.tax) == (None, None)


async def test_payment_for_an_unknown_order_raises_and_changes_nothing() -> None:
    store = Store()
    deps = make_deps(store)
    await services.place_order(deps, "ada@example.com", [("prod_coffee", 1)])
    before = snapshot(store)
    with pytest.raises(OrderNotFound, match="unknown order"):
        await store.broker.deliver(payment_event("succeeded", uuid4()), HANDLERS, deps)
    assert snapshot(store) == before  # not even the inbox claim: the retry must get through


async def test_the_deadline_check_cancels_an_unpaid_order_once() -> None:
    store = Store()
    clock = Clock()
    deps = make_deps(store, clock=clock, ttl=60)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 1)])
    store.broker.clear()
    clock.advance(60)
    check = payment_event("deadline", order.id)
    await store.broker.deliver(check, HANDLERS, deps)
    await store.broker.deliver(check, HANDLERS, deps)
    canceled = store.orders[order.id]
    assert (canceled.status.value, canceled.canceled_at, canceled.cancel_reason) == (
        "canceled",
        clock.now,
        "payment_deadline",
    )
    assert [(e.type, e.data.reason) for e in store.broker.published] == [
        ("order.canceled", "payment_deadline")
    ]


async def test_a_partial_refund_keeps_paid_and_publishes_nothing() -> None:
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    await store.broker.deliver(payment_event("succeeded", order.id), HANDLERS, deps)
    store.broker.clear()
    await store.broker.deliver(payment_event("partially_refunded", order.id), HANDLERS, deps)
    assert (store.orders[order.id].status.value, store.orders[order.id].refunded_amount) == ("paid", 1450)
    assert store.broker.published == []
