"""The worker issues the refund a webhook decided; Stripe being down never fails the webhook, and a
refused refund is kept for a person (on in-memory fakes of payments' own ports)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest

from payments.domain import HANDLED_TYPES, RefundSeen, RefundStatus, SessionStatus
from payments.metrics import RefundMetrics
from payments.services import issue_due_refunds, run_refund_issuer
from payments.stripe_gateway import StripeRefused, StripeUnavailable
from tests.support.payments import fake_stripe, store

from .test_payments_routes import an_order, checkout, completed, post_event


async def _second_payment(client, deps) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Two sessions of one order, both paid: the first one open on our side expired, as in issue 15."""
    order = an_order()
    first = (await checkout(client, deps, order)).json()["session_id"]
    state = store(deps).state
    for key, s in state.sessions.items():  # our clock: the first session is past its expiry
        state.sessions[key] = replace(s, expires_at=s.expires_at.replace(year=2000))
    second = (await checkout(client, deps, order)).json()["session_id"]
    one, two = completed(first), completed(second)
    two["data"]["object"]["payment_intent"] = "pi_2"
    assert (await post_event(client, one)).json()["note"] == "payment.succeeded"
    assert (await post_event(client, two)).json()["note"] == "duplicate_payment"
    return first, second


async def test_stripe_down_leaves_the_refund_to_issue_then_it_is_issued_once(client, deps) -> None:  # type: ignore[no-untyped-def]
    first, second = await _second_payment(client, deps)
    fake_stripe(deps).refund_fail_with.append(StripeUnavailable("APIConnectionError: down"))
    metrics = RefundMetrics()

    assert await issue_due_refunds(deps.store, deps.stripe, metrics=metrics) == 0
    (waiting,) = store(deps).state.refunds
    assert waiting.status is RefundStatus.TO_ISSUE
    assert store(deps).state.refund_errors == ["APIConnectionError: down"]

    assert await issue_due_refunds(deps.store, deps.stripe, metrics=metrics) == 1
    assert await issue_due_refunds(deps.store, deps.stripe, metrics=metrics) == 0
    counted = {
        result: metrics.registry.get_sample_value("payments_refunds_total", {"result": result})
        for result in ("issued", "unavailable", "refused")
    }
    assert counted == {"issued": 1.0, "unavailable": 1.0, "refused": 0.0}
    (issued,) = store(deps).state.refunds
    assert (issued.status, issued.stripe_refund_id) == (RefundStatus.SUCCEEDED, "re_test_2")
    assert [e.type for e in store(deps).state.outbox] == ["payment.succeeded", "payment.duplicate_refunded"]
    duplicate = store(deps).state.outbox[1].data
    assert (duplicate.checkout_session_id, duplicate.paid_by_checkout_session_id) == (second, first)
    assert fake_stripe(deps).calls.count(f"paybus-refund-{second}") == 2  # the same key both times
    assert {s.status for s in store(deps).state.sessions.values()} == {SessionStatus.COMPLETE}


async def test_a_refund_stripe_refuses_is_kept_for_a_person_and_never_retried(client, deps) -> None:  # type: ignore[no-untyped-def]
    await _second_payment(client, deps)
    fake_stripe(deps).refund_fail_with.append(StripeRefused("Charge ch_1 has already been refunded."))

    assert await issue_due_refunds(deps.store, deps.stripe) == 0
    assert await issue_due_refunds(deps.store, deps.stripe) == 0

    (refused,) = store(deps).state.refunds
    assert refused.status is RefundStatus.REFUSED
    assert [e.type for e in store(deps).state.outbox] == ["payment.succeeded"]


def test_the_one_list_of_handled_types_has_every_refund_event_the_sweep_must_ask_stripe_for() -> None:
    assert set(HANDLED_TYPES) == {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "charge.refunded",
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
        "refund.failed",
    }


async def test_an_answer_that_is_not_the_refund_asked_for_is_kept_for_a_person(client, deps) -> None:  # type: ignore[no-untyped-def]
    _, second = await _second_payment(client, deps)
    key = f"paybus-refund-{second}"
    fake_stripe(deps).refunds[key] = RefundSeen("re_odd", 1, "usd", RefundStatus.SUCCEEDED, ours=key)

    assert await issue_due_refunds(deps.store, deps.stripe) == 0

    (refused,) = store(deps).state.refunds
    assert (refused.status, refused.stripe_refund_id) == (RefundStatus.REFUSED, None)
    assert store(deps).state.refund_errors == ["Stripe answered refund re_odd of 1 usd"]
    assert [e.type for e in store(deps).state.outbox] == ["payment.succeeded"]


async def test_the_issuer_waits_out_an_unavailable_database_and_goes_on(client, deps) -> None:  # type: ignore[no-untyped-def]
    """make chaos (db-connections-killed) saw the refunds task end and be restarted by the supervisor:
    like the relay, it now pauses while the database is unavailable and carries on in place."""
    await _second_payment(client, deps)
    store(deps).fail_next += [asyncpg.PostgresConnectionError("terminated"), ConnectionRefusedError()]
    store(deps).fail_next[1].__cause__ = asyncpg.exceptions.CannotConnectNowError("starting up")
    issuer = asyncio.create_task(run_refund_issuer(deps.store, deps.stripe, interval=0.01))
    try:
        for _ in range(200):
            if store(deps).state.refunds[0].status is RefundStatus.SUCCEEDED:
                break
            await asyncio.sleep(0.01)
        assert store(deps).state.refunds[0].status is RefundStatus.SUCCEEDED
        assert not issuer.done()
    finally:
        issuer.cancel()


async def test_any_other_failure_of_the_issuer_goes_to_the_supervisor(client, deps) -> None:  # type: ignore[no-untyped-def]
    await _second_payment(client, deps)
    store(deps).fail_next.append(RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        await asyncio.wait_for(run_refund_issuer(deps.store, deps.stripe, interval=0.01), timeout=5)
