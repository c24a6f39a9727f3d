"""HttpUpstreams against fake orders/payments/notifier apps: what is sent, and how answers map."""

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.http_upstreams import HttpUpstreams
from gateway.metrics import Metrics
from gateway.schemas import OrderCreate, OrderItemCreate
from gateway.upstreams import BadUpstreamResponse, InvalidOrder, NotPayable
from runtime import requests
from tests.support.gateway import gateway_settings
from tests.support.http_services import FakeServices

URLS = {
    "orders": "http://orders.test",
    "payments": "http://payments.test",
    "notifier": "http://notifier.test",
}


@pytest.fixture
def fakes() -> FakeServices:
    return FakeServices()


@pytest.fixture
async def upstreams(fakes: FakeServices) -> AsyncIterator[HttpUpstreams]:
    mounts = {f"{url}": httpx.ASGITransport(app=fakes.app(name)) for name, url in URLS.items()}
    settings = gateway_settings(
        gateway_orders_url=URLS["orders"],
        gateway_payments_url=URLS["payments"],
        gateway_notifier_url=URLS["notifier"],
    )
    client = httpx.AsyncClient(mounts=mounts)
    http = HttpUpstreams(client, settings, Metrics())
    yield http
    await http.aclose()


async def test_products_and_orders_are_read_from_orders(upstreams, fakes):
    order = fakes.add_order()
    assert [p.id for p in await upstreams.list_products()] == ["blue-mug", "tea"]
    fetched = await upstreams.get_order(uuid.UUID(order["id"]))
    assert fetched is not None
    assert fetched.total == 3000
    assert await upstreams.get_order(uuid.uuid4()) is None


async def test_create_order_posts_the_body_and_returns_the_created_order(upstreams, fakes):
    created = await upstreams.create_order(
        OrderCreate(email="ada@example.com", items=[OrderItemCreate(product_id="tea", quantity=3)])
    )
    assert created.status == "pending"
    assert created.total == 1497
    sent = fakes.seen["orders"][-1]
    assert (sent.method, sent.path) == ("POST", "/orders")
    assert json.loads(sent.body) == {
        "email": "ada@example.com",
        "items": [{"product_id": "tea", "quantity": 3}],
    }


async def test_create_order_422_keeps_the_per_field_messages(upstreams):
    with pytest.raises(InvalidOrder) as caught:
        await upstreams.create_order(
            OrderCreate(email="nobody", items=[OrderItemCreate(product_id="ghost", quantity=1)])
        )
    assert caught.value.body == {
        "detail": [
            {"loc": ["body", "items", 0, "product_id"], "msg": "Unknown product", "type": "value_error"},
            {"loc": ["body", "email"], "msg": "Not an e-mail address", "type": "value_error"},
        ]
    }


async def test_checkout_sends_payments_only_the_order_id(upstreams, fakes):
    # Issue 13, finding 1: payments reads the order from orders; no amount travels through the gateway.
    order = fakes.add_order(status="payment_failed")

    checkout = await upstreams.checkout(uuid.UUID(order["id"]))

    assert checkout is not None
    assert checkout.created
    [post] = fakes.seen["payments"]
    assert (post.method, post.path) == ("POST", "/checkout-sessions")
    assert json.loads(post.body) == {"order_id": order["id"]}
    assert fakes.seen["orders"] == []
    again = await upstreams.checkout(uuid.UUID(order["id"]))
    assert again is not None
    assert not again.created
    assert again.session == checkout.session


async def test_checkout_of_an_order_payments_does_not_know_is_none(upstreams, fakes):
    assert await upstreams.checkout(uuid.uuid4()) is None


async def test_checkout_of_a_paid_order_is_not_payable(upstreams, fakes):
    order = fakes.add_order(status="paid")
    with pytest.raises(NotPayable) as caught:
        await upstreams.checkout(uuid.UUID(order["id"]))
    assert caught.value.status == 409
    assert caught.value.detail == "order is paid"


async def test_every_call_carries_the_request_id_and_nothing_nobody_reads(upstreams, fakes):
    token = requests.request_id.set("req-42")
    try:
        await upstreams.list_products()
        await upstreams.readiness()
    finally:
        requests.request_id.reset(token)
    calls = fakes.seen["orders"] + fakes.seen["payments"] + fakes.seen["notifier"]
    assert len(calls) == 4
    assert {c.headers["x-request-id"] for c in calls} == {"req-42"}
    assert not any("x-correlation-id" in c.headers for c in calls)


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b'{"detail": "boom"}'), (200, b"<html>not json</html>"), (200, b'[{"id": 1}]'), (418, b"{}")],
)
async def test_unexpected_answers_are_bad_upstream_responses(upstreams, fakes, status, body):
    fakes.script("orders", status, body)
    with pytest.raises(BadUpstreamResponse) as caught:
        await upstreams.list_products()
    assert caught.value.service == "orders"
    assert caught.value.status == 502


async def test_a_422_without_json_is_a_bad_upstream_response(upstreams, fakes):
    fakes.script("orders", 422, b"nope", media="text/plain")
    with pytest.raises(BadUpstreamResponse):
        await upstreams.create_order(OrderCreate(email="a@b.c", items=[]))


async def test_a_checkout_url_that_is_not_http_is_refused(upstreams, fakes):
    order = fakes.add_order()
    fakes.script("payments", 201, json.dumps({"session_id": "cs_1", "checkout_url": "javascript:alert(1)"}))
    with pytest.raises(BadUpstreamResponse):
        await upstreams.checkout(uuid.UUID(order["id"]))


async def test_webhook_is_forwarded_byte_for_byte_and_the_answer_comes_back(upstreams, fakes):
    body = b'{"id": "evt_1",  "type":"checkout.session.completed", "x": "\xc3\xa9\\u00e9"}\n'
    signature = b"t=1700000000,v1=" + b"ab" * 32 + b",v0=zz"
    fakes.webhook_reply = (400, b'{"detail": "bad signature"}')

    reply = await upstreams.forward_webhook(body, signature, b"application/json; charset=utf-8")

    sent = fakes.seen["payments"][-1]
    assert (sent.method, sent.path, sent.body) == ("POST", "/webhook", body)
    raw = dict(sent.raw_headers)
    assert raw[b"stripe-signature"] == signature
    assert raw[b"content-type"] == b"application/json; charset=utf-8"
    assert (reply.status, reply.body) == (400, b'{"detail": "bad signature"}')


async def test_readiness_names_the_service_that_is_not_ready(upstreams, fakes):
    fakes.not_ready.add("payments")
    checks = await upstreams.readiness()
    assert {name: check.ready for name, check in checks.items()} == {
        "orders": True,
        "payments": False,
        "notifier": True,
    }
    assert checks["payments"].detail == {"status": "unavailable", "down": ["database"]}
