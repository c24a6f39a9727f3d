"""The webhook refuses what Stripe did not sign now, stores each event once, and parks wrong amounts."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from stripe_sim.webhooks import signature_header
from tests.support.payments_live import OLD_SECRET, SECRET, Harness, an_order


def _completed(session_id: str, amount: int = 3499, currency: str = "eur") -> dict[str, Any]:
    return {
        "id": f"evt_test_{time.monotonic_ns()}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": amount,
                "currency": currency,
                "payment_intent": "pi_test_guard",
            }
        },
    }


BODY = json.dumps(_completed("cs_test_guard"))
NOW = int(time.time())
NO_OBJECT = '{"id": "evt_1", "type": "x", "data": {}}'


def _signed(body: str, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    return {"Stripe-Signature": signature_header(secret, body, at)}


CASES: dict[str, tuple[bytes, dict[str, str], int]] = {
    "missing header": (BODY.encode(), {}, 400),
    "garbled header": (BODY.encode(), {"Stripe-Signature": "t=abc,v1"}, 400),
    "wrong secret": (BODY.encode(), _signed(BODY, "whsec_someone_else"), 400),
    "tampered body": (BODY.replace("3499", "1").encode(), _signed(BODY), 400),
    "stale timestamp": (BODY.encode(), _signed(BODY, at=NOW - 301), 400),
    "spaced fresh t before a stale one": (BODY.encode(), {}, 400),
    "oversize body": (b" " * (1024 * 1024 + 1), _signed(" " * (1024 * 1024 + 1)), 413),
    "not JSON": (b"not json", _signed("not json"), 400),
    "not UTF-8": (b"\xff\xfe", {"Stripe-Signature": "t=1,v1=00"}, 400),
    "JSON that is not an event": (b'{"id": 1}', _signed('{"id": 1}'), 400),
    "event without data.object": (NO_OBJECT.encode(), _signed(NO_OBJECT), 400),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_a_rejected_webhook_changes_nothing(harness: Harness, case: str) -> None:
    body, headers, expected = CASES[case]
    # The timestamp cases are built at import: re-sign those relative to now.
    if case == "stale timestamp":
        headers = _signed(BODY, at=int(time.time()) - 301)
    if case == "spaced fresh t before a stale one":  # issue 13, finding 2: the SDK reads only `t`
        now, old = int(time.time()), int(time.time()) - 400
        stale = _signed(BODY, at=old)["Stripe-Signature"]
        headers = {"Stripe-Signature": f"t ={now},{stale}"}

    response = await harness.http.post("/webhook", content=body, headers=headers)

    assert response.status_code == expected, response.text
    assert isinstance(response.json()["detail"], str)
    assert await harness.count("stripe_events") == 0
    assert await harness.count("outbox") == 0
    assert await harness.published() == []


async def test_a_chunked_oversize_body_without_length_gets_413(harness: Harness) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(17):
            yield b"x" * 65536

    response = await harness.http.post("/webhook", content=chunks(), headers=_signed("x"))

    assert response.status_code == 413
    assert await harness.count("stripe_events") == 0


async def test_a_rotated_secret_still_verifies(harness: Harness) -> None:
    session_id = (await harness.checkout(an_order())).json()["session_id"]

    response = await harness.post_event(_completed(session_id), secret=OLD_SECRET)

    assert response.status_code == 200
    assert response.json()["note"] == "payment.succeeded"


async def test_the_same_event_five_times_at_once_is_stored_and_published_once(harness: Harness) -> None:
    session_id = (await harness.checkout(an_order())).json()["session_id"]
    event = _completed(session_id)

    responses = await asyncio.gather(*(harness.post_event(event) for _ in range(5)))
    await harness.settled()

    assert [r.status_code for r in responses] == [200] * 5
    assert sorted(r.json()["note"] for r in responses) == ["duplicate"] * 4 + ["payment.succeeded"]
    assert await harness.count("stripe_events") == 1
    assert [r.body["type"] for r in await harness.published()] == ["payment.succeeded"]


async def test_two_different_success_events_for_one_session_publish_one_success(harness: Harness) -> None:
    session_id = (await harness.checkout(an_order())).json()["session_id"]
    completed = _completed(session_id)
    settled = _completed(session_id) | {"type": "checkout.session.async_payment_succeeded"}

    responses = await asyncio.gather(harness.post_event(completed), harness.post_event(settled))
    await harness.settled()

    assert [r.status_code for r in responses] == [200, 200]
    assert await harness.count("stripe_events") == 2
    assert [r.body["type"] for r in await harness.published()] == ["payment.succeeded"]
    row = await harness.pool.fetchrow("SELECT outcome, succeeded_event_id FROM checkout_sessions")
    assert row["outcome"] == "succeeded"
    assert row["succeeded_event_id"] in (completed["id"], settled["id"])


@pytest.mark.parametrize(("amount", "currency"), [(1, "eur"), (3499, "usd")])
async def test_a_wrong_amount_is_parked_for_review_not_published(
    harness: Harness, amount: int, currency: str, caplog: pytest.LogCaptureFixture
) -> None:
    order = an_order()
    session_id = (await harness.checkout(order)).json()["session_id"]

    response = await harness.post_event(_completed(session_id, amount, currency))
    await harness.settled()

    assert (response.status_code, response.json()["note"]) == (200, "amount_mismatch")
    review = await harness.pool.fetchrow("SELECT * FROM payment_reviews")
    assert (review["received_amount"], review["received_currency"]) == (amount, currency)
    assert (review["expected_amount"], review["expected_currency"]) == (3499, "eur")
    assert str(review["order_id"]) == order["id"]
    assert review["resolved_at"] is None
    assert await harness.count("outbox") == 0
    assert await harness.published() == []
    assert any(r.levelname == "ERROR" and "parked for review" in r.getMessage() for r in caplog.records)


async def test_events_we_do_not_use_and_unknown_sessions_are_stored_not_published(harness: Harness) -> None:
    other = _completed("cs_test_not_ours")
    unused = _completed("cs_x") | {"type": "customer.created", "data": {"object": {"id": "cus_1"}}}

    responses = [await harness.post_event(other), await harness.post_event(unused)]

    assert [(r.status_code, r.json()["note"]) for r in responses] == [
        (200, "unknown_session"),
        (200, "ignored"),
    ]
    assert await harness.count("stripe_events") == 2
    assert await harness.count("outbox") == 0


async def test_health_readiness_and_metrics(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=harness.url) as client:
        health, ready = await client.get("/healthz"), await client.get("/readyz")
        await harness.http.post("/webhook", content=b"{}")
        metrics = await client.get("/metrics")

    assert (health.status_code, ready.status_code) == (200, 200)
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    assert 'payments_webhook_rejected_total{reason="missing_signature"} 1.0' in metrics.text
