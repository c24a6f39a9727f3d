"""Issue 13, finding 1: orders marks an order paid only for exactly its amount and currency; any other
payment is parked for review (a row, an ERROR log, the orders API), never `paid`."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from messaging.event import Envelope
from messaging.events.orders import OrderPaymentParked, OrderStatus
from messaging.events.payments import PaymentRefunded, PaymentSucceeded
from orders import domain, services
from orders.domain import Payment
from orders.handlers import HANDLERS
from orders.main import create_app
from orders.settings import Settings
from tests.support.events import payment_event
from tests.support.orders import CATALOGUE, T0, Store, make_deps

TOKEN = "orders-review-token"
CATALOGUE_BY_ID = {p.id: p for p in CATALOGUE}
AT = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)


def an_order() -> domain.Order:  # 2 x 1450 eur
    lines = domain.price_lines([("prod_coffee", 2)], CATALOGUE_BY_ID)
    return domain.new_order(uuid4(), "ada@example.com", lines, CATALOGUE_BY_ID, now=T0, ttl=3600)


@pytest.mark.parametrize(("amount", "currency"), [(1, "eur"), (2899, "eur"), (2901, "eur"), (2900, "usd")])
def test_a_payment_other_than_the_order_total_is_reviewed_not_paid(amount: int, currency: str) -> None:
    order = an_order()

    outcome = domain.payment_succeeded(order, Payment("cs_1", "pi_1", amount, AT, currency))

    assert outcome.order == order
    [parked] = outcome.events  # announced: the notifier mails the shop about it
    assert isinstance(parked, OrderPaymentParked)
    assert (parked.amount, parked.payment_currency, parked.total, parked.currency) == (
        amount,
        currency,
        2900,
        "eur",
    )
    assert outcome.review is not None
    assert (outcome.review.amount, outcome.review.currency, outcome.review.reason) == (
        amount, currency, "amount_mismatch",
    )  # fmt: skip
    assert (outcome.review.expected_amount, outcome.review.expected_currency) == (2900, "eur")


def test_the_exact_amount_pays_whatever_the_currency_case() -> None:
    outcome = domain.payment_succeeded(an_order(), Payment("cs_1", "pi_1", 2900, AT, "EUR"))

    assert (outcome.order.status, outcome.review) == (OrderStatus.PAID, None)


def test_a_refund_of_an_unmatched_payment_does_not_pay_an_unpaid_order() -> None:
    order = an_order()

    outcome = domain.payment_refunded(order, Payment("cs_1", "pi_1", 1, AT, "eur", captured=1), full=True)

    assert outcome.order == order
    assert [type(e) for e in outcome.events] == [OrderPaymentParked]
    assert outcome.review is not None
    assert outcome.review.reason == "refund_of_unmatched_payment"


async def test_an_underpayment_is_parked_logged_at_error_and_never_paid(caplog) -> None:  # type: ignore[no-untyped-def]
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    store.broker.clear()
    cheap = payment_event("succeeded", order.id, amount=1, session="cs_cheap")

    with caplog.at_level(logging.WARNING, logger="orders.handlers"):
        await store.broker.deliver(cheap, HANDLERS, deps)
        await store.broker.deliver(cheap, HANDLERS, deps)  # redelivered: one review

    assert store.orders[order.id].status is OrderStatus.PENDING
    assert [m.type for m in store.broker.published] == ["order.payment_parked"]  # once: redelivery absorbed
    [parked] = store.reviews
    assert (parked.message_id, parked.kind, parked.review.amount) == (str(cheap.id), "payment.succeeded", 1)
    [record] = [r for r in caplog.records if "parked for review" in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    honest = payment_event("succeeded", order.id, amount=2900, session="cs_honest")
    await store.broker.deliver(honest, HANDLERS, deps)
    assert store.orders[order.id].status is OrderStatus.PAID


async def test_a_forged_refund_cannot_pay_an_order() -> None:
    store = Store()
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    refund = PaymentRefunded(
        order_id=order.id, stripe_event_id="evt_r", checkout_session_id="cs_cheap", amount=1, currency="eur",
        amount_captured=1, fully_refunded=False,
    )  # fmt: skip

    await store.broker.deliver(Envelope.wrap(refund, correlation_id=str(order.id)), HANDLERS, deps)

    assert store.orders[order.id].status is OrderStatus.PENDING
    assert [r.review.reason for r in store.reviews] == ["refund_of_unmatched_payment"]


@pytest_asyncio.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    store = Store()
    app = create_app(Settings(service_token=TOKEN), deps=make_deps(store))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://orders", headers=headers) as client:
        yield client, store


async def test_operators_see_parked_payments_through_the_orders_api(api) -> None:  # type: ignore[no-untyped-def]
    client, store = api
    deps = make_deps(store)
    order = await services.place_order(deps, "ada@example.com", [("prod_coffee", 2)])
    other = await services.place_order(deps, "bob@example.com", [("prod_mug", 1)])
    for target, amount in ((order, 1), (other, 5)):
        event = PaymentSucceeded(
            order_id=target.id, stripe_event_id=f"evt_{amount}", checkout_session_id=f"cs_{amount}",
            amount=amount, currency="eur", payment_intent_id=f"pi_{amount}",
        )  # fmt: skip
        await store.broker.deliver(Envelope.wrap(event, correlation_id=str(target.id)), HANDLERS, deps)

    everything = await client.get("/payment-reviews")
    mine = await client.get("/payment-reviews", params={"order_id": str(order.id)})
    anonymous = await client.get("/payment-reviews", headers={"Authorization": ""})

    assert everything.status_code == 200
    assert [r["order_id"] for r in everything.json()] == [str(other.id), str(order.id)]
    [review] = mine.json()
    keys = ("amount", "currency", "expected_amount", "expected_currency", "reason")
    assert {k: review[k] for k in keys} == {
        "amount": 1, "currency": "eur", "expected_amount": 2900, "expected_currency": "eur",
        "reason": "amount_mismatch",
    }  # fmt: skip
    assert review["checkout_session_id"] == "cs_1"
    assert anonymous.status_code == 401
    assert dataclasses.asdict(store.reviews[0].review)["session_id"] == "cs_1"
