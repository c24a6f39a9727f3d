"""The gateway served by uvicorn in front of fake services over real HTTP: a journey and the failures."""

import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx

from tests.support.gateway_live import SERVICE_TOKEN, dead_url, serving_gateway, settings_for
from tests.support.html import check_page


async def test_an_order_is_created_paid_for_and_followed_until_paid(gateway, fakes):
    rid = {"X-Request-ID": "journey-1"}
    assert [p["id"] for p in (await gateway.get("/api/products")).json()] == ["blue-mug", "tea"]
    created = await gateway.post(
        "/api/orders",
        json={"email": "ada@example.com", "items": [{"product_id": "tea", "quantity": 2}]},
        headers=rid,
    )
    assert created.status_code == 201
    order = created.json()
    first = await gateway.post(f"/api/orders/{order['id']}/checkout", headers=rid)
    again = await gateway.post(f"/api/orders/{order['id']}/checkout", headers=rid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert json.loads(fakes.seen["payments"][0].body) == {"order_id": order["id"]}  # payments reads the rest
    assert {c.headers["x-request-id"] for c in fakes.seen["payments"]} == {"journey-1"}

    pay = await gateway.post("/payment/process/", data={"order_id": order["id"]})
    assert (pay.status_code, pay.headers["location"]) == (303, first.json()["checkout_url"])
    completed = f"/payment/completed/?session_id={first.json()['session_id']}"
    pending = check_page((await gateway.get(completed)).text)
    assert pending.meta_refresh() is not None

    fakes.orders[order["id"]]["status"] = "paid"  # what the webhook's events do in the real system
    paid = check_page((await gateway.get(completed)).text)
    assert paid.meta_refresh() is None
    assert "Thank you: your order is paid" in paid.text


async def test_the_canceled_page_reads_the_order_from_orders_with_the_service_token(gateway, fakes):
    """Tab 1 paid, tab 2 cancels on the same session: the page says paid, as orders does."""
    order = fakes.add_order("paid")
    fakes.seen["orders"].clear()
    page = check_page((await gateway.get(f"/payment/canceled/?order_id={order['id']}")).text)
    assert "Your order is paid" in page.text
    assert "No money was taken" not in page.text
    [call] = fakes.seen["orders"]
    assert call.path == f"/orders/{order['id']}"
    assert call.headers["authorization"] == f"Bearer {SERVICE_TOKEN}"


async def test_every_upstream_call_presents_the_service_token(gateway, fakes):
    created = await gateway.post(
        "/api/orders", json={"email": "ada@example.com", "items": [{"product_id": "tea", "quantity": 1}]}
    )
    await gateway.post(f"/api/orders/{created.json()['id']}/checkout")
    await gateway.post("/payment/webhook/", content=b"{}", headers={"Stripe-Signature": "t=1,v1=a"})
    await gateway.get("/readyz")
    calls = [call for seen in fakes.seen.values() for call in seen]
    assert {call.path for call in calls} >= {"/orders", "/checkout-sessions", "/webhook", "/readyz"}
    assert {call.headers.get("authorization") for call in calls} == {f"Bearer {SERVICE_TOKEN}"}


async def test_upstream_422_and_409_come_back_unchanged(gateway, fakes):
    bad = await gateway.post(
        "/api/orders", json={"email": "nobody", "items": [{"product_id": "tea", "quantity": 1}]}
    )
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": [{"loc": ["body", "email"], "msg": "Not an e-mail address", "type": "value_error"}]
    }
    paid = fakes.add_order(status="paid")
    conflict = await gateway.post(f"/api/orders/{paid['id']}/checkout")
    assert (conflict.status_code, conflict.json()) == (409, {"detail": "order is paid"})


async def test_the_webhook_reaches_payments_byte_for_byte(gateway, fakes):
    body = b'{"id":"evt_1", "data": {"object": {"name": "Caf\xc3\xa9"}}}\r\n'
    signature = "t=1700000000,v1=" + "0f" * 32
    fakes.webhook_reply = (400, b'{"detail": "No signatures found matching the expected signature"}')
    response = await gateway.post(
        "/payment/webhook/",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "No signatures found matching the expected signature"}
    sent = fakes.seen["payments"][-1]
    assert sent.body == body
    assert dict(sent.raw_headers)[b"stripe-signature"] == signature.encode()


async def test_oversize_webhooks_get_413_over_the_wire(gateway, fakes):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(129):
            yield b"x" * 8192

    for content in (b"x" * (1024 * 1024 + 1), chunks()):
        response = await gateway.post(
            "/payment/webhook/", content=content, headers={"Stripe-Signature": "t=1"}
        )
        assert response.status_code == 413
    assert fakes.seen["payments"] == []


def _assert_upstream_error(response: httpx.Response, status: int, error: str, detail: str) -> None:
    """The gateway's JSON answer to a failed upstream call, naming the request id the caller sent."""
    assert response.status_code == status, response.text
    assert response.json() == {
        "error": error,
        "detail": detail,
        "request_id": response.request.headers["X-Request-ID"],
    }


async def test_a_service_answering_500_is_a_502(gateway, fakes):
    fakes.script("orders", 500, b"Internal Server Error", media="text/plain")
    response = await gateway.get("/api/products", headers={"X-Request-ID": "r-502"})
    _assert_upstream_error(response, 502, "bad_upstream_response", "orders answered 500")


async def test_a_hanging_service_is_a_504_within_the_timeout(gateway, fakes):
    order = fakes.add_order()
    fakes.hang("payments")
    started = time.monotonic()
    response = await gateway.post(f"/api/orders/{order['id']}/checkout", headers={"X-Request-ID": "r-504"})
    assert time.monotonic() - started < 3
    _assert_upstream_error(response, 504, "upstream_timeout", "payments did not answer in time")
    ready = await gateway.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"orders": "ok", "payments": "failed", "notifier": "ok"}


async def test_a_service_that_is_down_is_a_503_and_readyz_names_it(world, fakes):
    urls = world.urls | {"orders": dead_url()}
    async with serving_gateway(settings_for(urls)) as base, httpx.AsyncClient(base_url=base) as client:
        products = await client.get("/api/products", headers={"X-Request-ID": "r-503"})
        _assert_upstream_error(products, 503, "upstream_unavailable", "orders is unreachable")
        page = await client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "not answering right now" in check_page(page.text).text
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"orders": "failed", "payments": "ok", "notifier": "ok"}


async def test_readyz_is_green_when_every_service_is_ready_and_names_one_that_is_not(gateway, fakes):
    assert (await gateway.get("/readyz")).status_code == 200
    fakes.not_ready.add("notifier")
    response = await gateway.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"orders": "ok", "payments": "ok", "notifier": "failed"},
    }
    assert "database" not in response.text  # what the notifier said stays inside
    assert [c.path for c in fakes.seen["notifier"]] == ["/readyz", "/readyz"]  # one call per /readyz


async def test_metrics_show_upstream_calls_by_outcome(gateway, fakes):
    await gateway.get(f"/api/orders/{uuid.uuid4()}")
    text = (await gateway.get("/metrics")).text
    assert (
        'gateway_upstream_request_duration_seconds_count{operation="get_order",outcome="404",service="orders"}'
        in text
    )
