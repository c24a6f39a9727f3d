"""The JSON API: products, orders and checkout relayed, upstream 4xx answers passed through."""

import uuid

NEW_ORDER = {"email": "ada@example.com", "items": [{"product_id": "blue-mug", "quantity": 2}]}


async def test_products_list_prices_in_minor_units(client):
    response = await client.get("/api/products")
    assert response.status_code == 200
    assert response.json()[0] == {
        "id": "blue-mug",
        "name": "Blue mug",
        "description": "Stoneware, 350 ml",
        "price": 1500,
        "currency": "eur",
    }


async def test_create_order_answers_201_with_the_order(client, upstreams):
    response = await client.post("/api/orders", json=NEW_ORDER)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("status", "email", "total", "currency")} == {
        "status": "pending",
        "email": "ada@example.com",
        "total": 3000,
        "currency": "eur",
    }
    assert body["items"][0]["line_total"] == 3000
    assert uuid.UUID(body["id"]) in upstreams.orders


async def test_create_order_passes_orders_422_through_unchanged(client, upstreams):
    response = await client.post(
        "/api/orders", json={"email": "ada@example.com", "items": [{"product_id": "ghost", "quantity": 1}]}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "items", 0, "product_id"], "msg": "Unknown product", "type": "value_error"}
        ]
    }
    assert upstreams.orders == {}


async def test_malformed_order_bodies_get_422_and_never_reach_orders(client, upstreams):
    for bad in (b"{not json", b'{"email": 5}', b'{"email": "a@b.c", "items": [{"product_id": "x"}]}', b"[]"):
        response = await client.post("/api/orders", content=bad, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, bad
        assert "detail" in response.json()
    assert upstreams.request_ids == []


async def test_get_order_returns_it_or_404(client, upstreams):
    created = (await client.post("/api/orders", json=NEW_ORDER)).json()
    found = await client.get(f"/api/orders/{created['id']}")
    assert found.status_code == 200
    assert found.json() == created
    missing = await client.get(f"/api/orders/{uuid.uuid4()}")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Order not found"})


async def test_a_malformed_order_id_is_404_without_asking_orders(client, upstreams):
    for bad in ("not-a-uuid", "..", "%2e%2e", "1%20OR%201=1"):
        response = await client.get(f"/api/orders/{bad}")
        assert response.status_code == 404, bad
    assert upstreams.request_ids == []


async def test_checkout_answers_201_then_200_with_the_same_session(client):
    order = (await client.post("/api/orders", json=NEW_ORDER)).json()
    first = await client.post(f"/api/orders/{order['id']}/checkout")
    second = await client.post(f"/api/orders/{order['id']}/checkout")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert first.json()["checkout_url"].startswith("https://stripe.test/pay/cs_test_")


async def test_checkout_of_a_paid_order_is_409_with_payments_detail(client, upstreams):
    order = (await client.post("/api/orders", json=NEW_ORDER)).json()
    upstreams.set_status(uuid.UUID(order["id"]), "paid")
    response = await client.post(f"/api/orders/{order['id']}/checkout")
    assert (response.status_code, response.json()) == (409, {"detail": "order is paid"})


async def test_checkout_of_an_unknown_order_is_404(client):
    for order_id in (str(uuid.uuid4()), "nope"):
        response = await client.post(f"/api/orders/{order_id}/checkout")
        assert (response.status_code, response.json()) == (404, {"detail": "Order not found"})
