"""Journeys through the gateway's JSON API with every process running, paid by the Stripe stand-in."""

from __future__ import annotations

import io
import re

import httpx
import pytest
import stripe
from pypdf import PdfReader

from tests.support.ids import random_ref
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def _order(client: httpx.AsyncClient, email: str, currency: str | None = None) -> dict:
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


async def _checkout(client: httpx.AsyncClient, order_id: str, expect: int = 201) -> dict:
    response = await client.post(f"/api/orders/{order_id}/checkout")
    assert response.status_code == expect, response.text
    return response.json()


async def _pay(system, session_id: str, outcome: str) -> None:
    async with httpx.AsyncClient(base_url=system.stripe, timeout=15) as sim:
        response = await sim.post(f"/_sim/checkout/sessions/{session_id}/pay", data={"outcome": outcome})
        assert response.status_code == 200, response.text


async def _status(client: httpx.AsyncClient, order_id: str, wanted: str) -> dict | None:
    order = (await client.get(f"/api/orders/{order_id}")).json()
    return order if order["status"] == wanted else None


async def _paid_order(
    system, client: httpx.AsyncClient, email: str, outcome: str = "succeeded", currency: str | None = None
) -> tuple[dict, dict]:
    """An order checked out and paid at the stand-in with `outcome`, as the gateway shows it once paid.

    Returns (order, checkout session)."""
    order = await _order(client, email, currency)
    session = await _checkout(client, order["id"])
    await _pay(system, session["session_id"], outcome)
    paid = await eventually(lambda: _status(client, order["id"], "paid"), timeout=30)
    return paid, session


async def _mails(system, email: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=system.mailbox, timeout=10) as box:
        return (await box.get("/api/messages", params={"to": email})).json()


async def _mail_with(system, email: str, needle: str) -> list[dict]:
    mails = await _mails(system, email)
    return [m for m in mails if needle.lower() in m["subject"].lower()]


async def test_order_checkout_pay_then_paid_and_a_receipt_with_a_pdf(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        order = await _order(client, email)
        session = await _checkout(client, order["id"])
        assert session["checkout_url"].startswith(system.stripe)
        again = await _checkout(client, order["id"], expect=200)  # a retried request reuses the session
        assert again["session_id"] == session["session_id"]
        await _pay(system, session["session_id"], "succeeded")
        paid = await eventually(lambda: _status(client, order["id"], "paid"), timeout=30)
        assert paid["checkout_session_id"] == session["session_id"]
        await _checkout(client, order["id"], expect=409)  # paid: nothing more to pay
    receipts = await eventually(lambda: _mail_with(system, email, "payment received"), timeout=30)
    assert len(receipts) == 1
    assert [a["content_type"] for a in receipts[0]["attachments"]] == ["application/pdf"]


async def test_a_delayed_payment_goes_pending_then_paid_and_its_invoice_says_sepa_debit(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        await _paid_order(system, client, email, "delayed_succeeded", "eur")
    [receipt] = await eventually(lambda: _mail_with(system, email, "payment received"), timeout=30)
    invoice = await _invoice_text(system, receipt["id"])
    assert "by SEPA Direct Debit •••• 3000 through Stripe." in invoice, invoice  # a euro bank debit
    assert re.search(r"Invoice number: INV-\d{6}", invoice)
    assert f"Billed to: {email}" in invoice


async def _invoice_text(system, message_id: str) -> str:
    async with httpx.AsyncClient(base_url=system.mailbox, timeout=10) as box:
        pdf = (await box.get(f"/api/messages/{message_id}/attachments/0")).content
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_failed_delayed_payment_can_be_paid_again(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        order = await _order(client, email)
        first = await _checkout(client, order["id"])
        await _pay(system, first["session_id"], "delayed_failed")
        await eventually(lambda: _status(client, order["id"], "payment_failed"), timeout=30)
        second = await _checkout(client, order["id"])
        assert second["session_id"] != first["session_id"]
        await _pay(system, second["session_id"], "succeeded")
        await eventually(lambda: _status(client, order["id"], "paid"), timeout=30)
    await eventually(lambda: _mail_with(system, email, "failed"), timeout=30)


async def test_a_full_refund_through_the_sdk_marks_the_order_refunded_and_mails_the_customer(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        order, _ = await _paid_order(system, client, email)
        http = stripe.HTTPXClient()
        sdk = stripe.StripeClient(
            system.env.get("STRIPE_SECRET_KEY", "sk_test_paybus_local"),
            base_addresses={"api": system.stripe},
            http_client=http,
        )
        try:
            await sdk.v1.refunds.create_async({"payment_intent": order["payment_intent_id"]})
        finally:
            await http.close_async()
        await eventually(lambda: _status(client, order["id"], "refunded"), timeout=30)
    await eventually(lambda: _mail_with(system, email, "refund"), timeout=30)
