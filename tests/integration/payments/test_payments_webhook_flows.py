"""Stripe's webhooks, from the stand-in, become payment events on both public exchanges, once each."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.support.payments_live import Harness, Received, an_order

ENVELOPE_KEYS = {"id", "type", "version", "occurred_at", "correlation_id", "causation_id", "data"}


def _types(received: list[Received]) -> list[str]:
    return [r.body["type"] for r in received]


def _assert_wire(received: Received, order_id: str) -> None:
    """ARCHITECTURE.md's envelope and AMQP properties."""
    msg, body = received.message, received.body
    assert set(body) == ENVELOPE_KEYS
    assert msg.content_type == "application/json"
    assert msg.delivery_mode is not None
    assert msg.delivery_mode.value == 2
    assert msg.message_id == body["id"]
    assert uuid.UUID(body["id"])
    assert msg.type == body["type"] == msg.routing_key
    assert msg.correlation_id == body["correlation_id"] == order_id
    assert msg.timestamp is not None
    assert body["version"] == 1
    assert datetime.fromisoformat(body["occurred_at"]).tzinfo is not None


async def test_a_card_payment_publishes_one_succeeded_with_the_full_envelope(harness: Harness) -> None:
    order = an_order()
    session_id = await harness.paid_session(order)

    await harness.settled()
    received = await harness.published()

    assert _types(received) == ["payment.succeeded"]
    _assert_wire(received[0], order["id"])
    data = received[0].body["data"]
    pi = (await harness.sdk.v1.checkout.sessions.retrieve_async(session_id)).payment_intent
    event_id = data["stripe_event_id"]
    stored = await harness.pool.fetchrow("SELECT type, note FROM stripe_events WHERE id = $1", event_id)
    assert data == {
        "order_id": order["id"],
        "stripe_event_id": event_id,
        "checkout_session_id": session_id,
        "amount": 3499,
        "currency": "eur",
        "payment_intent_id": pi,
        "payment_method": {"type": "card", "brand": "visa", "last4": "4242", "wallet": None},
        "tax": None,  # the session charged none
    }
    assert dict(stored) == {"type": "checkout.session.completed", "note": "payment.succeeded"}
    notes = await harness.pool.fetch("SELECT DISTINCT type FROM stripe_events WHERE note = 'ignored'")
    assert {"payment_intent.succeeded", "charge.succeeded"} <= {r["type"] for r in notes}


async def test_a_delayed_payment_is_pending_then_succeeded(harness: Harness) -> None:
    await harness.paid_session(an_order(), "delayed_succeeded")

    await harness.settled()

    assert _types(await harness.published()) == ["payment.pending", "payment.succeeded"]


async def test_a_delayed_euro_payment_succeeds_as_a_sepa_debit_with_the_included_vat(
    harness: Harness,
) -> None:
    """What the invoice prints: how Stripe says it was paid and the tax per rate (PAYMENTS_TAX_RATES)."""
    vat = await harness.sdk.v1.tax_rates.create_async(
        {"display_name": "VAT", "percentage": 19, "inclusive": True, "country": "DE"}
    )
    harness.settings.payments_tax_rates = vat.id
    session_id = await harness.paid_session(an_order(), "delayed_succeeded")
    await harness.settled()
    pending, succeeded = await harness.published()

    assert (pending.body["type"], succeeded.body["type"]) == ("payment.pending", "payment.succeeded")
    assert "payment_method" not in pending.body["data"]
    data = succeeded.body["data"]
    assert data["amount"] == 3499  # the tax is inside the order's prices: the order's total is paid
    assert data["payment_method"] == {"type": "sepa_debit", "brand": None, "last4": "3000", "wallet": None}
    # per line, rounded: 3000 / 1.19 = 2521 net (479 tax), 499 / 1.19 = 419 net (80 tax)
    assert data["tax"] == {
        "amount": 559,
        "lines": [{"display_name": "VAT", "percentage": "19.0", "inclusive": True, "amount": 559,
                   "taxable_amount": 2940, "jurisdiction": "DE"}],
    }  # fmt: skip
    session = await harness.sdk.v1.checkout.sessions.retrieve_async(session_id)
    assert session.total_details is not None
    assert (session.amount_total, session.total_details.amount_tax) == (3499, 559)


async def test_a_delayed_payment_that_fails_is_pending_then_failed(harness: Harness) -> None:
    await harness.paid_session(an_order(), "delayed_failed")

    await harness.settled()
    received = await harness.published()

    assert _types(received) == ["payment.pending", "payment.failed"]
    assert received[1].body["data"]["reason"] == "async_payment_failed"


async def test_an_expired_session_publishes_payment_expired(harness: Harness) -> None:
    order = an_order()
    session_id = (await harness.checkout(order)).json()["session_id"]

    await harness.sdk.v1.checkout.sessions.expire_async(session_id)
    await harness.settled()
    received = await harness.published()

    assert _types(received) == ["payment.expired"]
    assert received[0].body["data"]["checkout_session_id"] == session_id


async def test_partial_then_full_refund_publish_the_refunded_totals(harness: Harness) -> None:
    session_id = await harness.paid_session(an_order())
    pi = (await harness.sdk.v1.checkout.sessions.retrieve_async(session_id)).payment_intent
    assert isinstance(pi, str)
    await harness.settled()

    await harness.sdk.v1.refunds.create_async({"payment_intent": pi, "amount": 1000})
    await harness.sdk.v1.refunds.create_async({"payment_intent": pi})
    await harness.settled()
    received = await harness.published()

    assert _types(received) == ["payment.succeeded", "payment.refunded", "payment.refunded"]
    refunds = [(r.body["data"]["amount"], r.body["data"]["fully_refunded"]) for r in received[1:]]
    assert refunds == [(1000, False), (3499, True)]
    assert received[2].body["data"]["payment_intent_id"] == pi


async def test_a_refund_seen_before_the_completion_is_mapped_through_stripe(harness: Harness) -> None:
    """Webhooks reordered: the refund comes first, the PaymentIntent is unknown here yet."""
    await harness.sim.configure(events="charge.refunded")
    session_id = await harness.paid_session(an_order())
    pi = (await harness.sdk.v1.checkout.sessions.retrieve_async(session_id)).payment_intent
    assert isinstance(pi, str)

    await harness.sdk.v1.refunds.create_async({"payment_intent": pi})
    await harness.settled()
    completed = (await harness.sdk.v1.events.list_async({"type": "checkout.session.completed"})).data[0]
    late = await harness.post_event(completed.to_dict())
    await harness.settled()
    received = await harness.published()

    assert _types(received) == ["payment.succeeded", "payment.refunded"]
    assert (late.status_code, late.json()["note"]) == (200, "already_succeeded")
    assert received[1].body["data"] | {"fully_refunded": True} == received[1].body["data"]


async def test_chaotic_deliveries_end_with_one_success_per_paid_session(harness: Harness) -> None:
    await harness.sim.configure(chaos=True)
    paid = [await harness.paid_session(an_order()) for _ in range(3)]
    delayed = await harness.paid_session(an_order(), "delayed_succeeded")
    failed = await harness.paid_session(an_order(), "delayed_failed")

    await harness.settled()
    received = await harness.published()

    copies = len(await harness.sim.deliveries())
    events = await harness.count("stripe_events")
    assert copies > events  # the switch really duplicated deliveries
    succeeded = [
        r.body["data"]["checkout_session_id"] for r in received if r.body["type"] == "payment.succeeded"
    ]
    assert sorted(succeeded) == sorted([*paid, delayed])
    sessions_failed = [
        r.body["data"]["checkout_session_id"] for r in received if r.body["type"] == "payment.failed"
    ]
    assert sessions_failed == [failed]
    assert len({r.body["id"] for r in received}) == len(received)
