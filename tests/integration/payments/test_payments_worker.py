"""The worker relays committed payment events to the public exchanges and stops cleanly."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
from pydantic import SecretStr

from messaging.event import Envelope
from messaging.events.payments import PaymentSucceeded
from messaging.outbox import add_to_outbox
from messaging.settings import service_database_dsn
from payments.settings import Settings
from payments.worker import open_worker
from runtime.testing import start_worker
from tests.support.payments_live import PAYMENTS_TASK_QUEUES, TEST_TOPOLOGY, TOPIC_QUEUE
from tests.support.waiting import eventually


async def test_worker_relays_the_outbox_until_stopped(postgres, rabbit, prefix, make_broker) -> None:
    database_url = postgres.dsn(f"{postgres.prefix}_{uuid.uuid4().hex[:8]}")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        amqp_url=rabbit.url,
        stripe_webhook_secret=SecretStr("whsec_x"),
    )
    reader = await make_broker(TEST_TOPOLOGY, prefix)
    await reader.declare()  # the third party's queue exists before anything is published
    worker = await start_worker(open_worker(settings, topology=TEST_TOPOLOGY, prefix=prefix))
    dsn = service_database_dsn(database_url, "payments")
    event = PaymentSucceeded(
        order_id=uuid.uuid4(), stripe_event_id="evt_1", checkout_session_id="cs_1", amount=100, currency="eur"
    )
    envelope = Envelope.wrap(event, correlation_id=str(event.order_id))

    async def committed() -> bool:
        try:
            conn = await asyncpg.connect(dsn)
        except asyncpg.InvalidCatalogNameError:
            return False  # the worker has not created its database yet
        try:
            if await conn.fetchval("SELECT to_regclass('checkout_sessions')") is None:
                return False
            async with conn.transaction():
                await add_to_outbox(conn, envelope)
            return True
        finally:
            await conn.close()

    await eventually(committed, timeout=20)
    channel = await reader.connection.channel()
    queue = await channel.get_queue(prefix + TOPIC_QUEUE.name, ensure=False)
    message = await eventually(lambda: queue.get(no_ack=True, fail=False), timeout=20)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{worker.port}", timeout=5) as client:
        live = (await client.get("/healthz")).json()
        ready = await eventually(lambda: _ready(client), timeout=15)
        scraped = (await client.get("/metrics")).text
    assert await worker.stopped() == 0
    await channel.close()

    assert message.message_id == str(envelope.id)
    assert message.correlation_id == str(event.order_id)
    tasks = [f"consumer:{prefix}{q.name}" for q in PAYMENTS_TASK_QUEUES]  # the periodic tasks' queues
    assert live == {"status": "ok", "checks": dict.fromkeys(["relay", "refunds", "scheduler", *tasks], "ok")}
    assert ready == {
        "status": "ready",
        "checks": dict.fromkeys(["database", "broker", "outbox", *tasks], "ok"),
    }
    assert 'payments_refunds_total{result="issued"} 0.0' in scraped  # the refund issuer's, beside the relay's


async def _ready(client: httpx.AsyncClient) -> dict | None:
    response = await client.get("/readyz")
    return response.json() if response.status_code == 200 else None
