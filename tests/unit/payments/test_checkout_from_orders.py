"""Issue 13, finding 1: payments builds a Checkout Session only from the order as orders states it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from payments import domain
from payments.domain import SessionStatus
from payments.orders_client import HttpOrders, OrdersUnavailable
from tests.support.payments import fake_orders, fake_stripe, store


def an_order(**overrides: Any) -> dict[str, Any]:
    """138.00 EUR, as in the issue's report."""
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    line = {"product_id": "p1", "name": "Espresso machine", "quantity": 1, "unit_price": 13800,
            "line_total": 13800}  # fmt: skip
    values = {"id": str(uuid.uuid4()), "status": "pending", "email": "a@example.com", "items": [line],
              "total": 13800, "currency": "eur", "payment_deadline": deadline}  # fmt: skip
    return values | overrides


def _one_cent_session(order: domain.Order) -> domain.Session:
    """The issue's session: the order's id and lines, charged 0.01 (what the old API let a caller ask)."""
    cheap = order.model_copy(
        update={"total": 1, "items": (order.items[0].model_copy(update={"unit_price": 1, "line_total": 1}),)}
    )
    return domain.new_session(cheap, 1, "http://shop.test", datetime.now(UTC) + timedelta(hours=1))


async def test_amounts_lines_and_status_from_the_caller_are_refused(client, deps) -> None:  # type: ignore[no-untyped-def]
    order = an_order()
    fake_orders(deps).add(order)
    forged = order | {"total": 1, "items": [order["items"][0] | {"unit_price": 1, "line_total": 1}]}

    old_shape = await client.post("/checkout-sessions", json={"order": forged})
    extra = await client.post("/checkout-sessions", json={"order_id": order["id"], "amount": 1})

    assert (old_shape.status_code, extra.status_code) == (422, 422)
    assert store(deps).state.sessions == {}


async def test_the_session_charges_what_orders_states(client, deps) -> None:  # type: ignore[no-untyped-def]
    order = an_order()
    fake_orders(deps).add(order)

    response = await client.post("/checkout-sessions", json={"order_id": order["id"]})

    assert response.status_code == 201, response.text
    [session] = store(deps).state.sessions.values()
    assert (session.amount, session.currency) == (13800, "eur")
    [line] = session.request["line_items"]
    assert (line["price_data"]["unit_amount"], line["quantity"]) == (13800, 1)
    assert fake_orders(deps).asked == [uuid.UUID(order["id"])]


async def test_an_open_session_for_another_amount_is_not_reused(client, deps) -> None:  # type: ignore[no-untyped-def]
    # The 1-cent session, left open by the old API: never handed out again.
    order = an_order()
    parsed = fake_orders(deps).add(order)
    cheap = _one_cent_session(parsed)
    async with store(deps).transaction() as repo:
        await repo.insert_session(cheap)
        await repo.mark_created(cheap, "cs_cheap", "https://pay.test/cheap")

    response = await client.post("/checkout-sessions", json={"order_id": order["id"]})

    assert response.status_code == 201
    assert response.json()["session_id"] != "cs_cheap"
    latest = max(store(deps).state.sessions.values(), key=lambda s: s.attempt)
    assert (latest.attempt, latest.amount, latest.status) == (2, 13800, SessionStatus.OPEN)
    again = await client.post("/checkout-sessions", json={"order_id": order["id"]})
    assert (again.status_code, again.json()) == (200, response.json())


async def test_unknown_unpayable_and_unreachable_orders(client, deps) -> None:  # type: ignore[no-untyped-def]
    paid = an_order(status="paid")
    fake_orders(deps).add(paid)

    unknown = await client.post("/checkout-sessions", json={"order_id": str(uuid.uuid4())})
    not_payable = await client.post("/checkout-sessions", json={"order_id": paid["id"]})
    fake_orders(deps).down = True
    unreachable = await client.post("/checkout-sessions", json={"order_id": paid["id"]})

    assert [unknown.status_code, not_payable.status_code, unreachable.status_code] == [404, 409, 503]
    assert "Connect" not in unreachable.text
    assert store(deps).state.sessions == {}


async def test_the_orders_client_presents_the_service_token_and_maps_answers() -> None:
    order = an_order()
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        wanted = request.url.path.rsplit("/", 1)[-1]
        if wanted == order["id"]:
            return httpx.Response(200, json=order)
        if wanted == "00000000-0000-0000-0000-000000000500":
            return httpx.Response(500, text="boom")
        if wanted == "00000000-0000-0000-0000-000000000001":
            return httpx.Response(200, content=json.dumps(order | {"total": "lots"}))
        return httpx.Response(404, json={"detail": "order not found"})

    client = HttpOrders("http://orders.internal/", "s3cret", transport=httpx.MockTransport(answer))
    try:
        got = await client.get_order(uuid.UUID(order["id"]))
        assert got is not None
        assert (got.total, got.currency, got.status) == (13800, "eur", "pending")
        assert await client.get_order(uuid.uuid4()) is None
        for broken in ("00000000-0000-0000-0000-000000000500", "00000000-0000-0000-0000-000000000001"):
            with pytest.raises(OrdersUnavailable):
                await client.get_order(uuid.UUID(broken))
    finally:
        await client.aclose()
    assert set(seen) == {"Bearer s3cret"}


async def test_an_unanswered_attempt_for_another_amount_is_not_replayed(client, deps) -> None:  # type: ignore[no-untyped-def]
    order = an_order()
    parsed = fake_orders(deps).add(order)
    cheap = _one_cent_session(parsed)
    async with store(deps).transaction() as repo:
        await repo.insert_session(cheap)  # reserved, Stripe never answered: status creating

    response = await client.post("/checkout-sessions", json={"order_id": order["id"]})

    assert response.status_code == 201
    assert fake_stripe(deps).calls == [f"paybus-checkout-{order['id']}-2"]
    latest = max(store(deps).state.sessions.values(), key=lambda s: s.attempt)
    assert (latest.attempt, latest.amount) == (2, 13800)
