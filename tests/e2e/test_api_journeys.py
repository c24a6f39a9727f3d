"""Journeys through the gateway's JSON API with every process running, paid by the Stripe stand-in."""

from __future__ import annotations

import io
import re

import httpx
import pytest
import stripe
from pypdf import PdfReader

from tests.support.ids import random_ref
from tests.support.journeys import checkout, mail_with, paid_order, pay, place_order, status
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def test_order_checkout_pay_then_paid_and_a_receipt_with_a_pdf(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        order = await place_order(client, email)
        session = await checkout(client, order["id"])
        assert session["checkout_url"].startswith(system.stripe)
        again = await checkout(client, order["id"], expect=200)  # a retried request reuses the session
        assert again["session_id"] == session["session_id"]
        await pay(system, session["session_id"], "succeeded")
        paid = await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
        assert paid["checkout_session_id"] == session["session_id"]
        await checkout(client, order["id"], expect=409)  # paid: nothing more to pay
    receipts = await eventually(lambda: mail_with(system, email, "payment received"), timeout=30)
    assert len(receipts) == 1
    assert [a["content_type"] for a in receipts[0]["attachments"]] == ["application/pdf"]


async def test_a_delayed_payment_goes_pending_then_paid_and_its_invoice_says_sepa_debit(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        await paid_order(system, client, email, "delayed_succeeded", "eur")
    [receipt] = await eventually(lambda: mail_with(system, email, "payment received"), timeout=30)
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
        order = await place_order(client, email)
        first = await checkout(client, order["id"])
        await pay(system, first["session_id"], "delayed_failed")
        await eventually(lambda: status(client, order["id"], "payment_failed"), timeout=30)
        second = await checkout(client, order["id"])
        assert second["session_id"] != first["session_id"]
        await pay(system, second["session_id"], "succeeded")
        await eventually(lambda: status(client, order["id"], "paid"), timeout=30)
    await eventually(lambda: mail_with(system, email, "failed"), timeout=30)


async def test_a_full_refund_through_the_sdk_marks_the_order_refunded_and_mails_the_customer(system) -> None:
    email = f"{random_ref('buyer')}@example.com"
    async with system.client() as client:
        order, _ = await paid_order(system, client, email)
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
        await eventually(lambda: status(client, order["id"], "refunded"), timeout=30)
    await eventually(lambda: mail_with(system, email, "refund"), timeout=30)
