"""Webhooks paused at the stand-in ("our endpoint is down"): the scheduled reconciliation sweep pays
the orders anyway, and the webhooks that arrive late change nothing."""

from __future__ import annotations

import json
import time

import asyncpg
import httpx
import pytest

from messaging.settings import service_database_dsn
from tests.support.ids import random_ref
from tests.support.journeys import checkout, mail_with, pay, place_order, status
from tests.support.system import ARTIFACTS
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
PAYMENTS = 5


async def _webhooks(system, enabled: bool) -> None:
    async with httpx.AsyncClient(base_url=system.stripe, timeout=15) as sim:
        response = await sim.post("/_sim/webhooks", data={"enabled": "1" if enabled else "0"})
        assert response.status_code == 200, response.text


async def _delivered(system, event_ids: list[str]) -> bool:
    async with httpx.AsyncClient(base_url=system.stripe, timeout=15) as sim:
        deliveries = (await sim.get("/_sim/deliveries")).json()["data"]
    mine = [d for d in deliveries if d["event_id"] in event_ids]
    return len(mine) == len(event_ids) and all(d["delivered"] for d in mine)


async def _all_paid(client: httpx.AsyncClient, order_ids: list[str]) -> list[dict] | None:
    orders = [await status(client, order_id, "paid") for order_id in order_ids]
    return orders if all(orders) else None


async def test_the_sweep_pays_five_orders_whose_webhooks_were_paused_and_late_webhooks_change_nothing(
    system,
) -> None:
    emails = [f"{random_ref('swept')}@example.com" for _ in range(PAYMENTS)]
    await _webhooks(system, False)
    try:
        async with system.client() as client:
            orders = [await place_order(client, email) for email in emails]
            sessions = [(await checkout(client, o["id"]))["session_id"] for o in orders]
            for session in sessions:
                await pay(system, session, "succeeded")
            paid_at_stripe = time.monotonic()
            ids = [o["id"] for o in orders]
            await eventually(lambda: _all_paid(client, ids), timeout=120, interval=0.2)
            orders_paid = time.monotonic() - paid_at_stripe
        for email in emails:
            await eventually(lambda e=email: mail_with(system, e, "payment received"), timeout=60)
        receipts_sent = time.monotonic() - paid_at_stripe
    finally:
        await _webhooks(system, True)

    conn = await asyncpg.connect(service_database_dsn(system.env["DATABASE_URL"], "payments"))
    try:
        events = await conn.fetch(
            "SELECT id, note, body FROM stripe_events WHERE type = 'checkout.session.completed'"
        )
        mine = {
            r["id"]: r["note"] for r in events if json.loads(r["body"])["data"]["object"]["id"] in sessions
        }
        await eventually(lambda: _delivered(system, list(mine)), timeout=60)  # the late webhooks, answered
        published = await conn.fetch("SELECT body FROM outbox WHERE type = 'payment.succeeded'")
    finally:
        await conn.close()
    succeeded = [json.loads(r["body"])["data"]["checkout_session_id"] for r in published]

    assert len(mine) == PAYMENTS
    assert set(mine.values()) == {"payment.succeeded"}  # stored by the sweep; the webhooks were duplicates
    assert sorted(s for s in succeeded if s in sessions) == sorted(
        sessions
    )  # one event each, on both exchanges
    async with system.client() as client:
        assert await _all_paid(client, [o["id"] for o in orders])
    for email in emails:
        assert len(await mail_with(system, email, "payment received")) == 1
    figures = {
        "payments": PAYMENTS,
        "orders_paid_s": round(orders_paid, 2),  # from the last payment at Stripe to all five orders paid
        "receipts_s": round(receipts_sent, 2),  # ... to all five receipts in the mailbox
        "interval_s": float(system.env["STRIPE_RECONCILE_INTERVAL"]),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reconcile-repair.json").write_text(json.dumps(figures) + "\n")
    print(f"reconciliation repair: {figures}")
