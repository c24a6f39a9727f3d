"""Steps of a journey through the running system (tests/e2e): order, check out, pay at the Stripe
stand-in, wait for a status, read the mailbox. Shared by the e2e journeys."""

from __future__ import annotations

import httpx

from tests.support.waiting import eventually


async def place_order(client: httpx.AsyncClient, email: str, currency: str | None = None) -> dict:
    products = (await client.get("/api/products")).json()
    first = next(p for p in products if currency in (None, p["currency"]))
    response = await client.post(
        "/api/orders", json={"email": email, "items": [{"product_id": first["id"], "quantity": 2}]}
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending"
    assert order["total"] == 2 * first["price"]
    return order


async def checkout(client: httpx.AsyncClient, order_id: str, expect: int = 201) -> dict:
    response = await client.post(f"/api/orders/{order_id}/checkout")
    assert response.status_code == expect, response.text
    return response.json()


async def pay(system, session_id: str, outcome: str) -> None:
    async with httpx.AsyncClient(base_url=system.stripe, timeout=15) as sim:
        response = await sim.post(f"/_sim/checkout/sessions/{session_id}/pay", data={"outcome": outcome})
        assert response.status_code == 200, response.text


async def status(client: httpx.AsyncClient, order_id: str, wanted: str) -> dict | None:
    order = (await client.get(f"/api/orders/{order_id}")).json()
    return order if order["status"] == wanted else None


async def paid_order(
    system, client: httpx.AsyncClient, email: str, outcome: str = "succeeded", currency: str | None = None
) -> tuple[dict, dict]:
    """An order checked out and paid at the stand-in with `outcome`, as the gateway shows it once paid.

    Returns (order, checkout session)."""
    order = await place_order(client, email, currency)
    session = await checkout(client, order["id"])
    await pay(system, session["session_id"], outcome)
    paid = await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
    return paid, session


async def mails_to(system, email: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=system.mailbox, timeout=10) as box:
        return (await box.get("/api/messages", params={"to": email})).json()


async def mail_with(system, email: str, needle: str) -> list[dict]:
    mails = await mails_to(system, email)
    return [m for m in mails if needle.lower() in m["subject"].lower()]
