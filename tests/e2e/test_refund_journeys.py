"""Issue 15 through every process: a second payment is refunded once and the customer told; a refund
that fails takes the order back to paid, and the customer is told once per refund news."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
import stripe

from messaging.settings import service_database_dsn
from tests.support.ids import random_ref
from tests.support.journeys import checkout, mail_with, pay, place_order, status
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def _stripe(system) -> AsyncIterator[stripe.StripeClient]:  # type: ignore[no-untyped-def]
    http = stripe.HTTPXClient()
    try:
        yield stripe.StripeClient(
            system.env.get("STRIPE_SECRET_KEY", "sk_test_paybus_local"),
            base_addresses={"api": system.stripe},
            http_client=http,
        )
    finally:
        await http.close_async()


async def _settle(system, refund_id: str, outcome: str) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=system.stripe, timeout=15) as sim:
        response = await sim.post(f"/_sim/refunds/{refund_id}/settle", data={"outcome": outcome})
        assert response.status_code == 200, response.text


async def test_a_second_payment_is_refunded_once_and_the_order_paid_once(system) -> None:  # type: ignore[no-untyped-def]
    email = f"{random_ref('twice')}@example.com"
    async with system.client() as client, _stripe(system) as sdk:
        order = await place_order(client, email)
        first = (await checkout(client, order["id"]))["session_id"]
        # the reproduction: session A expires on our clock while Stripe still accepts it
        conn = await asyncpg.connect(service_database_dsn(system.env["DATABASE_URL"], "payments"))
        try:
            await conn.execute(
                "UPDATE checkout_sessions SET expires_at = now() - interval '1 second' WHERE session_id = $1",
                first,
            )
        finally:
            await conn.close()
        second = (await checkout(client, order["id"]))["session_id"]
        assert second != first
        await pay(system, first, "succeeded")
        await pay(system, second, "succeeded")
        second_pi = (await sdk.v1.checkout.sessions.retrieve_async(second)).payment_intent

        async def refunded_once() -> list[stripe.Refund] | None:
            found = (await sdk.v1.refunds.list_async({"payment_intent": second_pi})).data
            return found or None

        refunds = await eventually(refunded_once, timeout=30)
        told = await eventually(lambda: mail_with(system, email, "second payment"), timeout=30)
        paid = await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
        page = (await client.get(f"/payment/completed/?session_id={second}")).text
        receipts = await mail_with(system, email, "payment received")

    assert [(r.amount, r.reason) for r in refunds] == [(order["total"], "duplicate")]
    assert len(told) == 1
    assert len(receipts) == 1
    assert paid["checkout_session_id"] == first
    assert "Your order was already paid" in page


async def test_a_refund_that_fails_takes_the_order_back_to_paid(system) -> None:  # type: ignore[no-untyped-def]
    email = f"{random_ref('failed-refund')}@example.com"
    async with system.client() as client, _stripe(system) as sdk:
        order = await place_order(client, email)
        session = await checkout(client, order["id"])
        await pay(system, session["session_id"], "succeeded")
        paid = await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
        refund = await sdk.v1.refunds.create_async({"payment_intent": paid["payment_intent_id"]})
        await eventually(lambda: status(client, order["id"], "refunded"), timeout=30)
        await _settle(system, refund.id, "failed")
        back = await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
        told = await eventually(lambda: mail_with(system, email, "did not go through"), timeout=30)
        issued = await mail_with(system, email, "refund issued")

    assert back["refunded_amount"] == 0
    assert len(told) == 1
    assert len(issued) == 1
