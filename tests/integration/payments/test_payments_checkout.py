"""Checkout: the official SDK creates one Stripe session per order attempt, at the order's amount."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from payments import domain
from tests.support.payments_live import Harness, an_order


async def test_checkout_creates_a_session_from_the_order_record(harness: Harness) -> None:
    order = an_order()

    response = await harness.checkout(order)

    assert response.status_code == 201, response.text
    body = response.json()
    session = await harness.sdk.v1.checkout.sessions.retrieve_async(
        body["session_id"], {"expand": ["line_items"]}
    )
    assert body["checkout_url"] == session.url
    assert (session.mode, session.amount_total, session.currency) == ("payment", 3499, "eur")
    assert session.client_reference_id == order["id"]
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"order_id": order["id"]}
    assert session.customer_email == "ada@example.com"
    assert session.success_url == "http://shop.test/payment/completed/?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == f"http://shop.test/payment/canceled/?order_id={order['id']}"
    assert session.expires_at == int(datetime.fromisoformat(order["payment_deadline"]).timestamp())
    assert session.line_items is not None
    lines = [(i.description, i.quantity, i.amount_total) for i in session.line_items.data]
    assert lines == [("Blue mug", 2, 3000), ("Tea sampler", 1, 499)]
    row = await harness.pool.fetchrow("SELECT status, amount, attempt FROM checkout_sessions")
    assert dict(row) == {"status": "open", "amount": 3499, "attempt": 1}


async def test_a_retried_checkout_returns_the_open_session(harness: Harness) -> None:
    order = an_order()
    first = await harness.checkout(order)

    again = await harness.checkout(order)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    listed = await harness.sdk.v1.checkout.sessions.list_async({"limit": 100})
    assert len(listed.data) == 1


async def test_concurrent_checkouts_of_one_order_make_one_session(harness: Harness) -> None:
    order = an_order()

    responses = await asyncio.gather(*(harness.checkout(order) for _ in range(5)))

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["session_id"] for r in responses}) == 1
    assert len((await harness.sdk.v1.checkout.sessions.list_async({"limit": 100})).data) == 1
    assert await harness.count("checkout_sessions") == 1


async def test_a_deadline_beyond_24h_is_clamped_into_stripes_window(harness: Harness) -> None:
    far = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    response = await harness.checkout(an_order(payment_deadline=far))

    session = await harness.sdk.v1.checkout.sessions.retrieve_async(response.json()["session_id"])
    latest = datetime.now(UTC) + timedelta(hours=24) - domain.EXPIRES_MARGIN
    assert abs(session.expires_at - latest.timestamp()) < 60


async def test_orders_that_are_not_payable_get_409_and_no_session(harness: Harness) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()

    paid = await harness.checkout(an_order(status="paid"))
    late = await harness.checkout(an_order(payment_deadline=past))

    assert (paid.status_code, late.status_code) == (409, 409)
    assert "not payable" in paid.json()["detail"]
    assert "deadline" in late.json()["detail"]
    assert await harness.count("checkout_sessions") == 0
    assert (await harness.sdk.v1.checkout.sessions.list_async()).data == []


async def test_a_malformed_order_gets_422_and_no_session(harness: Harness) -> None:
    wrong_total = an_order(total=1)

    responses = [
        await harness.http.post("/checkout-sessions", content=b"{not json"),
        await harness.http.post("/checkout-sessions", json={"order": {"id": "x"}}),
        await harness.checkout(wrong_total),
    ]

    assert [r.status_code for r in responses] == [422, 422, 422]
    assert "total" in responses[2].json()["detail"]
    assert await harness.count("checkout_sessions") == 0


async def test_an_expired_session_is_replaced_by_a_new_attempt(harness: Harness) -> None:
    order = an_order()
    first = (await harness.checkout(order)).json()["session_id"]
    await harness.sdk.v1.checkout.sessions.expire_async(first)
    await harness.settled()

    second = await harness.checkout(order)

    assert second.status_code == 201
    assert second.json()["session_id"] != first
    rows = await harness.pool.fetch("SELECT attempt, status FROM checkout_sessions ORDER BY attempt")
    assert [tuple(r) for r in rows] == [(1, "expired"), (2, "open")]


async def test_completed_page_reads_the_session_status(harness: Harness) -> None:
    session_id = (await harness.checkout(an_order())).json()["session_id"]
    before = (await harness.http.get(f"/checkout-sessions/{session_id}")).json()
    await harness.sim.pay(session_id)
    await harness.settled()

    after = await harness.http.get(f"/checkout-sessions/{session_id}")
    unknown = await harness.http.get("/checkout-sessions/cs_test_unknown")

    assert (before["status"], before["payment_status"]) == ("open", "unpaid")
    assert (after.json()["status"], after.json()["payment_status"]) == ("complete", "paid")
    assert unknown.status_code == 404


async def test_a_caller_cannot_choose_the_amount_stripe_charges(harness: Harness) -> None:
    # Issue 13, finding 1: a 138.00 EUR order got a 0.01 EUR session from the caller's body.
    order = an_order()
    harness.orders[order["id"]] = order
    cheap = order | {
        "total": 1,
        "items": [order["items"][0] | {"quantity": 1, "unit_price": 1, "line_total": 1}],
    }

    forged = await harness.http.post("/checkout-sessions", json={"order": cheap})
    honest = await harness.http.post("/checkout-sessions", json={"order_id": order["id"]})

    assert (forged.status_code, honest.status_code) == (422, 201)
    session = await harness.sdk.v1.checkout.sessions.retrieve_async(honest.json()["session_id"])
    assert (session.amount_total, session.currency) == (3499, "eur")
