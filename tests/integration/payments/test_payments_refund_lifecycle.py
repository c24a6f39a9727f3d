"""Each refund is recorded by its Stripe id and moved through Stripe's statuses by refund.* and
charge.refund.* events; one that fails or is canceled is published as payment.refund_reversed, once
(issue 15). Forged or foreign refund events change nothing."""

from __future__ import annotations

from typing import Any

from tests.support.payments_live import Harness, an_order, two_sessions_paid
from tests.support.refunds import PAYMENT_REFUND_REVERSED, payment_refund_reversed
from tests.support.waiting import eventually


def _types(received: list[Any]) -> list[str]:
    return [r.body["type"] for r in received]


async def _paid_intent(harness: Harness, order: dict[str, Any]) -> tuple[str, str]:
    session_id = await harness.paid_session(order)
    pi = (await harness.sdk.v1.checkout.sessions.retrieve_async(session_id)).payment_intent
    assert isinstance(pi, str)
    await harness.settled()
    return session_id, pi


async def test_a_pending_refund_that_fails_is_published_as_reversed_once(harness: Harness) -> None:
    order = an_order()
    _, pi = await _paid_intent(harness, order)
    await harness.sim.configure(refund_status="pending")

    refund = await harness.sdk.v1.refunds.create_async({"payment_intent": pi})
    await harness.settled()
    await harness.sim.settle_refund(refund.id, "failed", "expired_or_canceled_card")
    await harness.settled()
    received = await harness.published()
    row = await harness.pool.fetchrow("SELECT status, failure_reason, amount, reason FROM refunds")
    session = await harness.pool.fetchrow("SELECT refunded_amount, reversed_amount FROM checkout_sessions")

    assert _types(received) == ["payment.succeeded", "payment.refunded", "payment.refund_reversed"]
    refunded, reversed_ = received[1].body["data"], received[2].body["data"]
    assert (refunded["amount"], refunded["amount_reversed"], refunded["fully_refunded"]) == (3499, 0, True)
    assert {k: reversed_[k] for k in PAYMENT_REFUND_REVERSED} == payment_refund_reversed(
        refund.id, 3499, "expired_or_canceled_card"
    )
    assert dict(row) == {
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "amount": 3499,
        "reason": "stripe",
    }
    assert tuple(session) == (3499, 3499)
    notes = {r["type"]: r["note"] for r in await harness.pool.fetch("SELECT type, note FROM stripe_events")}
    # refund.updated reversed it; refund.failed and charge.refund.updated then had nothing new to say
    assert notes["refund.updated"] == "payment.refund_reversed"
    assert notes["refund.failed"] == notes["charge.refund.updated"] == "refund_already_seen"


async def test_a_refund_made_again_after_a_failure_is_published_with_the_grown_gross(
    harness: Harness,
) -> None:
    _, pi = await _paid_intent(harness, an_order())
    await harness.sim.configure(refund_status="pending")
    first = await harness.sdk.v1.refunds.create_async({"payment_intent": pi, "amount": 1000})
    await harness.sim.settle_refund(first.id, "canceled")
    await harness.sim.configure(refund_status="succeeded")
    await harness.sdk.v1.refunds.create_async({"payment_intent": pi, "amount": 1000})
    await harness.settled()

    received = await harness.published()
    assert _types(received) == [
        "payment.succeeded",
        "payment.refunded",
        "payment.refund_reversed",
        "payment.refunded",
    ]
    totals = [(r.body["data"]["amount"], r.body["data"]["amount_reversed"]) for r in received[1:]]
    assert totals == [(1000, 0), (0, 1000), (1000, 1000)]


async def test_forged_and_foreign_refund_events_change_nothing(harness: Harness) -> None:
    order = an_order()
    _, pi = await _paid_intent(harness, order)
    await harness.published()
    refund = {
        "object": "refund",
        "id": "re_forged",
        "amount": 3499,
        "currency": "eur",
        "status": "failed",
        "payment_intent": pi,
        "charge": "ch_x",
        "metadata": {},
    }

    def event(eid: str, obj: dict[str, Any], kind: str = "refund.failed") -> dict[str, Any]:
        return {"id": eid, "object": "event", "type": kind, "data": {"object": obj}}

    forged = await harness.post_event(event("evt_forged_sig", refund), secret="whsec_not_ours")
    answers = [
        await harness.post_event(event("evt_bad_status", refund | {"status": "refunded-ish"})),
        await harness.post_event(event("evt_bad_id", refund | {"id": "ch_not_a_refund"})),
        await harness.post_event(event("evt_usd", refund | {"currency": "usd"})),
        await harness.post_event(event("evt_too_much", refund | {"amount": 999999})),
        await harness.post_event(event("evt_stranger", refund | {"payment_intent": "pi_not_ours"})),
    ]
    await harness.settled()

    assert forged.status_code == 400
    assert [a.json()["note"] for a in answers] == [
        "invalid_refund",
        "invalid_refund",
        "amount_mismatch",
        "amount_mismatch",
        "unknown_session",
    ]
    assert await harness.count("refunds") == 0
    assert await harness.published() == []
    assert await harness.pool.fetchval("SELECT count(*) FROM stripe_events WHERE id = 'evt_forged_sig'") == 0
    assert await harness.pool.fetchval("SELECT reversed_amount FROM checkout_sessions") == 0


async def test_the_refund_of_a_second_payment_that_fails_is_published_as_a_second_payments(
    harness: Harness,
) -> None:
    await harness.sim.configure(refund_status="pending")
    order = an_order()
    _, second = await two_sessions_paid(harness, order)

    async def issued() -> bool:
        return await harness.pool.fetchval("SELECT status FROM refunds") == "pending"

    await eventually(issued, timeout=20)
    refund_id = await harness.pool.fetchval("SELECT stripe_refund_id FROM refunds")
    await harness.sim.settle_refund(refund_id, "failed", "lost_or_stolen_card")
    await harness.settled()
    received = await harness.published()

    assert _types(received) == ["payment.succeeded", "payment.duplicate_refunded", "payment.refund_reversed"]
    assert received[1].body["data"]["refund_status"] == "pending"
    reversed_ = received[2].body["data"]
    assert (reversed_["checkout_session_id"], reversed_["second_payment"], reversed_["refund_id"]) == (
        second,
        True,
        refund_id,
    )
