"""The orders worker on the real broker: payments move orders, the deadline cancels, poison is parked."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx

from orders import services
from orders.deps import Runtime
from orders.settings import Settings
from tests.support.events import payment_event
from tests.support.orders_live import Listener, publish_payment
from tests.support.waiting import eventually


async def _status(runtime: Runtime, order_id: Any) -> str | None:
    return await runtime.pool.fetchval("SELECT status FROM orders WHERE id = $1", order_id)


async def test_payment_succeeded_on_the_exchange_marks_the_order_paid_once_and_publishes_order_paid(
    runtime: Runtime, settings: Settings, start_worker, listener: Listener
) -> None:
    order = await services.place_order(runtime.deps(settings), "ada@example.com", [("prod_coffee", 2)])
    worker = await start_worker(settings)
    succeeded = payment_event("succeeded", order.id, session="cs_live_1")
    for _ in range(2):  # the same message twice: the inbox makes the second a no-op
        await publish_payment(runtime.broker, succeeded)
    await eventually(lambda: worker.context.broker.stats.consumed == 2, timeout=15)
    await eventually(lambda: listener.of("order.paid", str(order.id)), timeout=15)
    paid_rows = "SELECT count(*) FROM outbox WHERE type = 'order.paid' AND correlation_id = $1"
    assert await _count(runtime, paid_rows, str(order.id)) == 1
    (paid,) = listener.of("order.paid", str(order.id))
    assert paid["data"]["email"] == "ada@example.com"
    assert paid["data"]["checkout_session_id"] == "cs_live_1"
    assert paid["causation_id"] == str(succeeded.id)
    assert [m["data"]["order_id"] for m in listener.of("order.created", str(order.id))] == [str(order.id)]
    assert await _status(runtime, order.id) == "paid"


async def _count(runtime: Runtime, query: str, *args: Any) -> int:
    return int(await runtime.pool.fetchval(query, *args))


async def test_a_payment_for_an_unknown_order_is_retried_then_parked_and_the_worker_goes_on(
    runtime: Runtime, settings: Settings, start_worker, prefix: str
) -> None:
    await start_worker(settings)
    orphan = payment_event("succeeded", uuid4())
    await publish_payment(runtime.broker, orphan)
    channel = await runtime.broker.connection.channel()
    dlq = await channel.declare_queue(prefix + "orders.payments.dlq", passive=True)
    parked = await eventually(lambda: dlq.get(fail=False), timeout=15)
    await parked.ack()
    await channel.close()
    assert parked.message_id == str(orphan.id)
    assert parked.headers["x-attempts"] == 3  # the first delivery and two retries
    assert "unknown order" in parked.headers["x-error"]
    assert await _count(runtime, "SELECT count(*) FROM inbox") == 0  # each failed attempt rolled back
    order = await services.place_order(runtime.deps(settings), "ada@example.com", [("prod_mug", 1)])
    await publish_payment(runtime.broker, payment_event("succeeded", order.id, amount=1800))
    await eventually(lambda: _status_is(runtime, order.id, "paid"), timeout=15)


async def _status_is(runtime: Runtime, order_id: Any, status: str) -> bool:
    return await _status(runtime, order_id) == status


async def test_the_payment_deadline_cancels_an_unpaid_order_and_spares_a_paid_one(
    runtime: Runtime, settings: Settings, start_worker, listener: Listener
) -> None:
    short = settings.model_copy(update={"order_payment_ttl": 2})
    deps = runtime.deps(short)
    unpaid = await services.place_order(deps, "ada@example.com", [("prod_coffee", 1)])
    paid = await services.place_order(deps, "grace@example.com", [("prod_coffee", 1)])
    await start_worker(short)
    await publish_payment(runtime.broker, payment_event("succeeded", paid.id, amount=1450))
    (canceled,) = await eventually(lambda: listener.of("order.canceled", str(unpaid.id)), timeout=20)
    assert (canceled["data"]["status"], canceled["data"]["reason"]) == ("canceled", "payment_deadline")
    assert canceled["data"]["email"] == "ada@example.com"
    checks = "SELECT count(*) FROM inbox WHERE consumer = 'orders.deadlines'"
    await eventually(lambda: _count_is(runtime, checks, 2), timeout=20)  # both checks handled
    assert await _status(runtime, unpaid.id) == "canceled"
    canceled_at = await runtime.pool.fetchval("SELECT canceled_at FROM orders WHERE id = $1", unpaid.id)
    assert canceled_at >= unpaid.payment_deadline  # delayed through the broker, never early
    assert await _status(runtime, paid.id) == "paid"
    assert listener.of("order.canceled", str(paid.id)) == []


async def _count_is(runtime: Runtime, query: str, expected: int) -> bool:
    return await _count(runtime, query) == expected


async def test_the_worker_serves_health_readiness_and_metrics_on_its_own_port(
    settings: Settings, start_worker, prefix: str
) -> None:
    worker = await start_worker(settings)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{worker.port}", timeout=5) as client:
        live = await client.get("/healthz")
        ready = await eventually(lambda: _ready(client), timeout=15)
        metrics = await client.get("/metrics")
    consumers = {f"consumer:{prefix}orders.payments": "ok", f"consumer:{prefix}orders.deadlines": "ok"}
    assert live.json() == {"status": "ok", "checks": {**consumers, "relay": "ok"}}
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "outbox": "ok", **consumers}
    assert 'paybus_task_up{task="relay"} 1.0' in metrics.text
    for queue in ("orders.payments", "orders.deadlines"):  # each consumed queue's series from the start
        for figure in ("delivered", "acked", "retried"):
            assert f'\npaybus_messages_{figure}_total{{queue="{prefix}{queue}"}} 0.0' in metrics.text
        assert f'paybus_messages_parked_total{{queue="{prefix}{queue}",reason="failed"}} 0.0' in metrics.text
    assert "\npaybus_messages_published_total " in metrics.text  # the broker's figures, read at the scrape
    for kind in ("order.created", "order.paid", "order.canceled", "order.refunded"):  # orders' events
        assert f'\npaybus_outbox_published_total{{type="{kind}"}} 0.0' in metrics.text
    assert 'paybus_outbox_published_total{type="payment.succeeded"}' not in metrics.text
    assert "\npaybus_outbox_unsent 0.0" in metrics.text
    assert "\npaybus_outbox_lag_seconds 0.0" in metrics.text
    assert "\npaybus_broker_ready 1.0" in metrics.text
    assert await worker.stopped() == 0


async def _ready(client: httpx.AsyncClient) -> httpx.Response | None:
    response = await client.get("/readyz")
    return response if response.status_code == 200 else None
