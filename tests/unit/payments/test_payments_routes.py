"""Routes on create_app(settings, deps=fakes): checkout retries, the webhook's guards, health."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from payments.deps import Deps
from payments.stripe_gateway import RemoteSession, StripeRefused, StripeUnavailable
from stripe_sim.webhooks import signature_header
from tests.support.payments import SECRET, fake_orders, fake_stripe, store


def an_order(**overrides: Any) -> dict[str, Any]:
    deadline = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    line = {"product_id": "p1", "name": "Mug", "quantity": 1, "unit_price": 1200, "line_total": 1200}
    values = {"id": str(uuid.uuid4()), "status": "pending", "email": "a@example.com", "items": [line],
              "total": 1200, "currency": "eur", "payment_deadline": deadline}  # fmt: skip
    return values | overrides


def completed(session_id: str, amount: int = 1200) -> dict[str, Any]:
    obj = {"id": session_id, "status": "complete", "payment_status": "paid", "amount_total": amount,
           "currency": "eur", "payment_intent": "pi_1"}  # fmt: skip
    return {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
            "data": {"object": obj}}  # fmt: skip


async def checkout(client: httpx.AsyncClient, deps: Deps, order: dict[str, Any]) -> httpx.Response:
    """The order as the orders service holds it; the caller sends only its id."""
    fake_orders(deps).add(order)
    return await client.post("/checkout-sessions", json={"order_id": order["id"]})


async def post_event(client: httpx.AsyncClient, event: dict[str, Any]) -> httpx.Response:
    body = json.dumps(event)
    return await client.post(
        "/webhook", content=body, headers={"Stripe-Signature": signature_header(SECRET, body)}
    )


async def test_a_checkout_after_stripe_was_unreachable_replays_the_same_key(client, deps) -> None:  # type: ignore[no-untyped-def]
    fake_stripe(deps).fail_with.append(StripeUnavailable("timeout"))
    order = an_order()

    failed = await checkout(client, deps, order)
    retried = await checkout(client, deps, order)

    assert (failed.status_code, retried.status_code) == (502, 201)
    assert fake_stripe(deps).calls == [f"paybus-checkout-{order['id']}-1"] * 2
    timed = {
        outcome: deps.metrics.registry.get_sample_value(
            "payments_checkout_duration_seconds_count", {"outcome": outcome}
        )
        for outcome in ("stripe_error", "created", "reused")
    }
    assert timed == {"stripe_error": 1.0, "created": 1.0, "reused": 0.0}


async def test_a_refused_replay_gets_one_fresh_attempt(client, deps) -> None:  # type: ignore[no-untyped-def]
    fake_stripe(deps).fail_with += [StripeUnavailable("timeout"), StripeRefused("expires_at too soon")]
    order = an_order()

    await checkout(client, deps, order)
    retried = await checkout(client, deps, order)

    assert retried.status_code == 201
    assert [k[-1] for k in fake_stripe(deps).calls] == ["1", "1", "2"]


async def test_concurrent_checkouts_share_one_session(client, deps) -> None:  # type: ignore[no-untyped-def]
    order = an_order()

    responses = await asyncio.gather(*(checkout(client, deps, order) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len(fake_stripe(deps).calls) == 1


async def test_a_paid_order_gets_409_even_before_orders_knows(client, deps) -> None:  # type: ignore[no-untyped-def]
    order = an_order()
    session_id = (await checkout(client, deps, order)).json()["session_id"]
    await post_event(client, completed(session_id))

    again = await checkout(client, deps, order)

    assert again.status_code == 409


async def test_webhook_stores_once_and_publishes_once(client, deps) -> None:  # type: ignore[no-untyped-def]
    order = an_order()
    session_id = (await checkout(client, deps, order)).json()["session_id"]
    event = completed(session_id)

    first, second = await post_event(client, event), await post_event(client, event)

    assert (first.json()["note"], second.json()["note"]) == ("payment.succeeded", "duplicate")
    [envelope] = store(deps).state.outbox
    assert (envelope.type, envelope.correlation_id) == ("payment.succeeded", order["id"])
    assert envelope.data.amount == 1200
    assert envelope.data.stripe_event_id == event["id"]


async def test_webhook_rejections_store_nothing(client, deps) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(completed("cs_x"))
    too_big = " " * (1024 * 1024 + 1)
    responses = [
        await client.post("/webhook", content=body),
        await client.post(
            "/webhook", content=body, headers={"Stripe-Signature": signature_header("whsec_no", body)}
        ),
        await client.post(
            "/webhook", content=too_big, headers={"Stripe-Signature": signature_header(SECRET, too_big)}
        ),
        await client.post(
            "/webhook", content="[1]", headers={"Stripe-Signature": signature_header(SECRET, "[1]")}
        ),
        await client.post(
            "/webhook", content=body, headers={"Stripe-Signature": "t=1", "Content-Length": "abc"}
        ),
    ]

    assert [r.status_code for r in responses] == [400, 400, 413, 400, 400]
    assert store(deps).state.events == {}
    assert store(deps).state.outbox == []


async def test_a_refund_for_an_unknown_payment_intent_is_mapped_through_stripe(client, deps) -> None:  # type: ignore[no-untyped-def]
    session_id = (await checkout(client, deps, an_order())).json()["session_id"]
    fake_stripe(deps).remote[session_id] = RemoteSession(session_id, "complete", "paid", "pi_9")
    charge = {"id": "ch_1", "amount": 1200, "currency": "eur", "payment_intent": "pi_9"}
    charge |= {"amount_refunded": 1200, "refunded": True}
    event = {"id": "evt_r", "type": "charge.refunded", "data": {"object": charge}}

    response = await post_event(client, event)

    assert response.json()["note"] == "payment.refunded"
    assert [e.type for e in store(deps).state.outbox] == ["payment.succeeded", "payment.refunded"]


async def test_readiness_names_what_is_down(client, deps) -> None:  # type: ignore[no-untyped-def]
    store(deps).down = True

    ready = await client.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "failed", "broker": "ok"}
    assert "database down" not in ready.text  # the reason goes to the log
    assert (await client.get("/healthz")).status_code == 200
