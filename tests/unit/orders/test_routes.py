"""The orders HTTP API on fakes: catalogue, create and read orders, validation, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio

from orders.main import create_app
from orders.settings import Settings
from tests.support.metrics import scrape
from tests.support.orders import Store, make_deps, snapshot

TOKEN = "orders-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _up() -> None:
    return None


async def _down() -> None:
    raise ConnectionRefusedError("broker at 10.1.2.3 refused")


@pytest.fixture
def store() -> Store:
    return Store()


@pytest_asyncio.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    deps = make_deps(store, checks={"database": _up, "broker": _up})
    app = create_app(Settings(orders_max_body_bytes=4096, service_token=TOKEN), deps=deps)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders", headers=AUTH) as client:
        yield client


def _order(**changes: object) -> dict[str, object]:
    return {"email": "ada@example.com", "items": [{"product_id": "prod_coffee", "quantity": 2}], **changes}


async def test_products_lists_active_products_with_prices_in_minor_units(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/products")
    assert response.status_code == 200
    products = response.json()
    assert [p["id"] for p in products] == ["prod_cold_brew_kit", "prod_mug", "prod_coffee"]
    assert products[2] == {
        "id": "prod_coffee",
        "name": "Yirgacheffe coffee beans",
        "description": "250 g",
        "price": 1450,
        "currency": "eur",
    }


async def test_create_order_prices_on_the_server_and_get_returns_it(client, store) -> None:  # type: ignore[no-untyped-def]
    body = {
        "email": "ada@example.com",
        "items": [{"product_id": "prod_coffee", "quantity": 2}, {"product_id": "prod_mug", "quantity": 1}],
    }
    created = await client.post("/orders", json=body)
    assert created.status_code == 201, created.text
    order = created.json()
    assert created.headers["location"] == f"/orders/{order['id']}"
    assert set(order) == {
        "id", "status", "email", "items", "total", "currency", "created_at", "payment_deadline",
        "paid_at", "refunded_amount", "checkout_session_id", "payment_intent_id",
    }  # fmt: skip
    assert (order["status"], order["total"], order["currency"], order["refunded_amount"]) == (
        "pending",
        4700,
        "eur",
        0,
    )
    assert order["items"][0] == {
        "product_id": "prod_coffee",
        "name": "Yirgacheffe coffee beans",
        "quantity": 2,
        "unit_price": 1450,
        "line_total": 2900,
    }
    fetched = await client.get(f"/orders/{order['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == order


def _items(*lines: tuple[str, object], **extra: object) -> dict[str, object]:
    return _order(items=[{"product_id": p, "quantity": q, **extra} for p, q in lines])


ITEM_0 = ["body", "items", 0]
PRODUCT_1 = ["body", "items", 1, "product_id"]
MANY = [(f"p{i}", 1) for i in range(51)]


@pytest.mark.parametrize(
    ("body", "loc", "msg"),
    [
        (_order(email="not-an-email"), ["body", "email"], "value is not a valid email address"),
        (_order(items=[]), ["body", "items"], "at least 1 item"),
        (_items(*MANY), ["body", "items"], "at most 50 items"),
        (_items(("prod_coffee", 0)), [*ITEM_0, "quantity"], "greater than or equal to 1"),
        (_items(("prod_coffee", 101)), [*ITEM_0, "quantity"], "less than or equal to 100"),
        (_items(("prod_coffee", "2")), [*ITEM_0, "quantity"], "valid integer"),
        (_items(("prod_coffee", 1), price=1), [*ITEM_0, "price"], "Extra inputs are not permitted"),
        (_order(total=1), ["body", "total"], "Extra inputs are not permitted"),
        ({"items": [{"product_id": "prod_coffee", "quantity": 1}]}, ["body", "email"], "Field required"),
        (_items(("prod_nope", 1)), [*ITEM_0, "product_id"], "unknown product 'prod_nope'"),
        (_items(("prod_french_press", 1)), [*ITEM_0, "product_id"], "no longer sold"),
        (_items(("prod_coffee", 1), ("prod_cold_brew_kit", 1)), PRODUCT_1, "one currency per order"),
        (_items(("prod_mug", 1), ("prod_mug", 3)), PRODUCT_1, "appears on two lines"),
    ],
)
async def test_invalid_orders_get_422_naming_the_field_and_change_nothing(
    client, store, body, loc, msg
) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(store)
    response = await client.post("/orders", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and msg in e["msg"] for e in errors), errors
    assert snapshot(store) == before


async def test_every_refused_line_is_named_in_one_answer(client) -> None:  # type: ignore[no-untyped-def]
    items = [
        {"product_id": "prod_nope", "quantity": 1},
        {"product_id": "prod_coffee", "quantity": 1},
        {"product_id": "prod_gone", "quantity": 1},
    ]
    response = await client.post("/orders", json=_order(items=items))
    assert [e["loc"][2] for e in response.json()["detail"]] == [0, 2]
    assert response.json()["detail"][1]["input"] == "prod_gone"


async def test_bad_json_gets_422_and_an_oversize_body_413(client, store) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(store)
    bad = await client.post("/orders", content=b'{"email": ', headers={"content-type": "application/json"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["type"] == "json_invalid"
    huge = await client.post("/orders", json=_order(email="a" * 5000 + "@example.com"))
    assert huge.status_code == 413
    assert "larger than 4096 bytes" in huge.json()["detail"]

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(5):
            yield b" " * 1000

    chunked = await client.post("/orders", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert snapshot(store) == before


@pytest.mark.parametrize("order_id", [str(uuid4()), "not-a-uuid"])
async def test_get_unknown_order_is_404(client, order_id) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/orders/{order_id}")
    assert (response.status_code, response.json()) == (404, {"detail": "order not found"})


async def test_healthz_readyz_and_metrics(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    assert (await client.get("/readyz")).json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok"},
    }
    await client.post("/orders", json=_order())
    await client.post("/orders", json=_order(items=[{"product_id": "prod_nope", "quantity": 1}]))
    metrics = await scrape(client)
    assert "orders_created_total 1.0" in metrics
    assert "orders_rejected_total 1.0" in metrics


async def test_readyz_is_503_naming_what_is_down(store) -> None:  # type: ignore[no-untyped-def]
    async def broken() -> None:
        raise OSError("connection refused")

    deps = make_deps(store, checks={"database": broken, "broker": _down})
    app = create_app(Settings(), deps=deps)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orders") as client:
        response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "checks": {"database": "failed", "broker": "failed"}},
    )
    assert "10.1.2.3" not in response.text


async def test_every_orders_route_wants_the_service_token_except_health(store) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(service_token=TOKEN), deps=make_deps(store, checks={"database": _up}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orders") as client:
        for method, path in (("GET", "/products"), ("POST", "/orders"), ("GET", f"/orders/{uuid4()}")):
            response = await client.request(method, path, json=_order())
            assert response.status_code == 401, (method, path)
            assert "SERVICE_TOKEN" in response.json()["detail"]
        wrong = await client.get("/products", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(path)).status_code == 200, path
    assert store.orders == {}
