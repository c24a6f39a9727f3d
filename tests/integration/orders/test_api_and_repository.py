"""The orders API and repository on a real PostgreSQL: orders, lines and outbox rows commit together."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx

from messaging.events.orders import OrderStatus
from messaging.settings import service_database_dsn
from orders import services
from orders.deps import Runtime
from orders.domain import Session
from orders.main import create_app
from orders.settings import Settings
from tests.support.orders_live import AUTH

COUNTS = """
SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_lines) AS lines,
       (SELECT count(*) FROM outbox) AS outbox"""


async def test_the_api_with_its_real_lifespan_places_an_order_with_lines_and_both_outbox_messages(
    settings: Settings,
) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders", headers=AUTH) as client:
            ready = {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
            assert (await client.get("/readyz")).json() == ready
            products = (await client.get("/products")).json()
            items = [{"product_id": "prod_coffee", "quantity": 2}, {"product_id": "prod_mug", "quantity": 1}]
            body = {"email": "ada@example.com", "items": items}
            created = await client.post("/orders", json=body)
            assert created.status_code == 201, created.text
            fetched = (await client.get(f"/orders/{created.json()['id']}")).json()
    conn = await asyncpg.connect(service_database_dsn(settings.database_url, "orders"))
    try:
        outbox = await conn.fetch(
            "SELECT type, correlation_id, target_queue, deliver_at FROM outbox ORDER BY seq"
        )
        lines = await conn.fetch(
            "SELECT product_id, quantity FROM order_lines WHERE order_id = $1", UUID(fetched["id"])
        )
    finally:
        await conn.close()
    assert sorted(p["currency"] for p in products) == ["eur"] * 6 + ["usd"]
    assert "prod_french_press" not in {p["id"] for p in products}
    assert fetched == created.json()
    assert (fetched["total"], fetched["status"]) == (1450 * 2 + 1800, "pending")
    assert [tuple(r) for r in lines] == [("prod_coffee", 2), ("prod_mug", 1)]
    created_row, check_row = outbox
    assert (created_row["type"], created_row["target_queue"]) == ("order.created", None)
    assert (check_row["type"], check_row["target_queue"]) == (
        "order.payment_deadline_reached",
        "orders.deadlines",
    )
    assert {created_row["correlation_id"], check_row["correlation_id"]} == {fetched["id"]}
    deadline = datetime.fromisoformat(fetched["payment_deadline"])
    assert deadline - datetime.fromisoformat(fetched["created_at"]) == timedelta(seconds=3600)
    assert abs(check_row["deliver_at"] - deadline) < timedelta(seconds=5)


async def test_a_refused_order_leaves_no_order_no_line_and_no_message(
    runtime: Runtime, settings: Settings
) -> None:
    app = create_app(settings, deps=runtime.deps(settings))
    before = dict(await runtime.pool.fetchrow(COUNTS))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders", headers=AUTH) as client:
        items = [{"product_id": "prod_coffee", "quantity": 1}, {"product_id": "prod_unknown", "quantity": 1}]
        refused = await client.post("/orders", json={"email": "ada@example.com", "items": items})
        mixed = [
            {"product_id": "prod_coffee", "quantity": 1},
            {"product_id": "prod_cold_brew_kit", "quantity": 1},
        ]
        refused_currency = await client.post("/orders", json={"email": "ada@example.com", "items": mixed})
        missing = await client.get(f"/orders/{uuid4()}")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "items", 1, "product_id"]
    assert refused.json()["detail"][0]["msg"] == "unknown product 'prod_unknown'"
    assert refused_currency.status_code == 422
    assert missing.status_code == 404
    assert dict(await runtime.pool.fetchrow(COUNTS)) == before == {"orders": 0, "lines": 0, "outbox": 0}


async def test_every_column_survives_a_save_and_a_locked_read(runtime: Runtime, settings: Settings) -> None:
    deps = runtime.deps(settings)
    order = await services.place_order(deps, "ada@example.com", [("prod_tea", 3)])
    changed = dataclasses.replace(
        order,
        status=OrderStatus.REFUNDED,
        paid_at=order.created_at + timedelta(minutes=1),
        canceled_at=order.created_at + timedelta(seconds=30),
        cancel_reason="checkout_expired",
        refunded_amount=order.total,
        checkout_session_id="cs_1",
        payment_intent_id="pi_1",
        sessions={"cs_0": Session.EXPIRED, "cs_1": Session.SUCCEEDED},
        deadline_reached=True,
    )
    async with deps.transaction() as repo:
        assert await repo.lock_order(order.id) == order
        await repo.save_order(changed)
    async with deps.transaction() as repo:
        assert await repo.get_order(order.id) == changed
        assert await repo.lock_order(uuid4()) is None
