"""The reconciliation sweep on the real database, broker and stand-in: the worker's scheduled sweep
repairs payments whose webhooks never came, and the late webhooks change nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx

from payments.worker import open_worker
from runtime.testing import running_worker
from tests.support.payments_live import TEST_TOPOLOGY, Harness, an_order
from tests.support.waiting import eventually


async def _notes(harness: Harness) -> dict[str, str]:
    rows = await harness.pool.fetch(
        "SELECT id, note FROM stripe_events WHERE type = 'checkout.session.completed'"
    )
    return {row["id"]: row["note"] for row in rows}


async def test_the_scheduled_sweep_pays_what_the_webhook_missed_and_late_webhooks_change_nothing(
    harness: Harness, prefix
) -> None:
    await harness.sim.set_webhooks(False)  # our endpoint is "down"
    sessions = [await harness.paid_session(an_order()) for _ in range(3)]
    assert await harness.count("stripe_events") == 0
    settings = harness.settings.model_copy(update={"stripe_reconcile_interval": 0.5})

    async with running_worker(open_worker(settings, topology=TEST_TOPOLOGY, prefix=prefix)) as worker:
        repaired = await eventually(lambda: _all_noted(harness, 3), timeout=60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{worker.port}") as client:
            metrics = (await client.get("/metrics")).text
        await harness.sim.set_webhooks(True)  # back: Stripe delivers every event it held
        await harness.settled()
    published = await harness.published()

    assert set(repaired.values()) == {"payment.succeeded"}
    succeeded = [
        r.body["data"]["checkout_session_id"] for r in published if r.body["type"] == "payment.succeeded"
    ]
    assert sorted(succeeded) == sorted(sessions)  # one per payment, none from the late webhooks
    assert await _notes(harness) == repaired  # the late webhooks were duplicates
    deliveries = [
        d for d in await harness.sim.deliveries() if d["event_type"] == "checkout.session.completed"
    ]
    assert {d["event_id"] for d in deliveries} == set(repaired)
    assert all(d["delivered"] for d in deliveries)
    line = 'payments_reconcile_repaired_total{note="payment.succeeded",type="checkout.session.completed"} 3.0'
    assert line in metrics
    assert "payments_reconcile_lag_seconds" in metrics
    assert f'paybus_messages_acked_total{{queue="{prefix}payments.stripe_reconcile"}}' in metrics  # the ticks


async def _all_noted(harness: Harness, count: int) -> dict[str, str] | None:
    notes = await _notes(harness)
    return notes if len(notes) == count else None


async def test_the_reconcile_command_sweeps_now_and_refuses_bad_input(harness: Harness) -> None:
    await harness.sim.set_webhooks(False)
    session = await harness.paid_session(an_order())
    env = {
        "DATABASE_URL": harness.settings.database_url,
        "STRIPE_API_BASE": harness.sim.base_url,
        "STRIPE_SECRET_KEY": harness.sim.api_key,
        "PAYMENTS_STRIPE_RETRIES": "0",
        "LOG_FORMAT": "text",
        "PATH": "/usr/bin:/bin",
    }

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "payments", "reconcile", *args]
        # in a thread: the stand-in answers from this test's event loop
        return await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
        )

    bad = await run("--since", "yesterday")
    done = await run("--since", "600")
    again = await run("--since", "600")

    assert bad.returncode == 2
    assert "--since" in bad.stderr
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["repaired"], summary["notes"], summary["checkpoint_moved"]) == (
        1,
        {"payment.succeeded": 1},
        False,  # 600 s do not reach back to a checkpoint: there is none
    )
    assert json.loads(again.stdout.strip().splitlines()[-1])["repaired"] == 0
    [row] = await harness.pool.fetch("SELECT type, body FROM outbox")
    assert row["type"] == "payment.succeeded"
    assert json.loads(row["body"])["data"]["checkout_session_id"] == session
