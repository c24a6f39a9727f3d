"""A second successful payment for an order is refunded in full through Stripe's Refund API, once,
and published as payment.duplicate_refunded; the order's one payment.succeeded stands (issue 15)."""

from __future__ import annotations

from typing import Any

from payments import domain
from payments.domain import Refund, RefundStatus
from payments.repository import PgStore
from payments.services import issue_due_refunds
from payments.stripe_gateway import StripeGateway
from tests.support.payments_live import Harness, an_order, two_sessions_paid
from tests.support.waiting import eventually


async def _refund_rows(harness: Harness) -> list[dict[str, Any]]:
    rows = await harness.pool.fetch(
        "SELECT checkout_session_id, stripe_refund_id, idempotency_key, amount, status, reason FROM refunds"
    )
    return [dict(r) for r in rows]


async def test_a_second_payment_is_refunded_once_and_the_first_pays_the_order(harness: Harness) -> None:
    order = an_order()
    first, second = await two_sessions_paid(harness, order)

    async def issued() -> bool:
        rows = await _refund_rows(harness)
        return len(rows) == 1 and rows[0]["status"] == "succeeded"

    await eventually(issued, timeout=20)
    await harness.settled()
    received = await harness.published()
    refunds = (await harness.sdk.v1.refunds.list_async({"limit": 100})).data
    second_pi = (await harness.sdk.v1.checkout.sessions.retrieve_async(second)).payment_intent

    assert [r.body["type"] for r in received] == ["payment.succeeded", "payment.duplicate_refunded"]
    paid, refunded = (r.body["data"] for r in received)
    assert paid["checkout_session_id"] == first
    assert [(r.payment_intent, r.amount, r.currency, r.reason, r.status) for r in refunds] == [
        (second_pi, 3499, "eur", "duplicate", "succeeded")
    ]
    assert refunded == {
        "order_id": order["id"],
        "stripe_event_id": refunded["stripe_event_id"],
        "checkout_session_id": second,
        "amount": 3499,
        "currency": "eur",
        "payment_intent_id": second_pi,
        "refund_id": refunds[0].id,
        "refund_status": "succeeded",
        "paid_by_checkout_session_id": first,
    }
    assert received[1].message.correlation_id == order["id"]
    assert await _refund_rows(harness) == [
        {
            "checkout_session_id": second,
            "stripe_refund_id": refunds[0].id,
            "idempotency_key": f"paybus-refund-{second}",
            "amount": 3499,
            "status": "succeeded",
            "reason": "duplicate_payment",
        }
    ]
    notes = await harness.pool.fetchval(
        "SELECT note FROM stripe_events WHERE id = $1", refunded["stripe_event_id"]
    )
    assert notes == "duplicate_payment"
    sessions = await harness.pool.fetch(
        "SELECT session_id, outcome, duplicate_of FROM checkout_sessions ORDER BY attempt"
    )
    assert [tuple(r) for r in sessions] == [(first, "succeeded", None), (second, "succeeded", first)]
    # what the gateway's completed page reads: this session was a second payment (refunded)
    pages = [(await harness.http.get(f"/checkout-sessions/{s}")).json() for s in (first, second)]
    assert [(p["second_payment"], p["amount"], p["currency"]) for p in pages] == [
        (False, 3499, "eur"),
        (True, 3499, "eur"),
    ]


async def test_redelivered_events_and_a_replayed_refund_call_refund_nothing_more(harness: Harness) -> None:
    order = an_order()
    _, second = await two_sessions_paid(harness, order)

    async def issued() -> bool:
        return [r["status"] for r in await _refund_rows(harness)] == ["succeeded"]

    await eventually(issued, timeout=20)
    await harness.settled()
    await harness.published()
    completed = [
        e
        for e in (await harness.sdk.v1.events.list_async({"type": "checkout.session.completed"})).data
        if e.data.object["id"] == second
    ]
    copy = await harness.post_event({**completed[0].to_dict(), "id": "evt_copy_of_second_completion"})
    # A worker that crashed after Stripe's answer calls again with the same key: Stripe's same refund.
    row = await harness.pool.fetchrow("SELECT * FROM refunds")
    plan = Refund(
        row["order_id"],
        second,
        row["payment_intent_id"],
        row["amount"],
        row["currency"],
        row["reason"],
        RefundStatus.TO_ISSUE,
        idempotency_key=row["idempotency_key"],
    )
    gateway = StripeGateway(harness.sim.api_key, harness.sim.base_url, timeout=10, retries=0)
    try:
        replayed = await gateway.create_refund(domain.refund_request(plan), row["idempotency_key"])
        left = await issue_due_refunds(PgStore(harness.pool), gateway)
    finally:
        await gateway.aclose()
    await harness.settled()

    assert copy.status_code == 200
    assert copy.json()["note"] == "already_succeeded"
    assert replayed.id == row["stripe_refund_id"]
    assert len((await harness.sdk.v1.refunds.list_async({"limit": 100})).data) == 1
    assert await harness.published() == []
    assert left == 0  # nothing left to issue
