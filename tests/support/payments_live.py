"""Payments served in process beside the Stripe stand-in and a fake orders service, third-party queues."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import asyncpg
import httpx
import stripe
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from messaging.broker import Broker
from messaging.outbox import Relay
from messaging.topology import BROADCAST, PAYMENTS, TASKS, TOPOLOGY, Binding, Queue, QueueType, Topology
from payments.settings import Settings
from stripe_sim.settings import Settings as SimSettings
from stripe_sim.testing import RunningSim
from stripe_sim.webhooks import signature_header
from tests.support.waiting import eventually

SECRET = "whsec_payments_test"
SERVICE_TOKEN = "payments-integration-token"
OLD_SECRET = "whsec_payments_rotated_out"
# Queues of a third party, declared by the test on its own prefix beside the public exchanges.
# Plain classic queues: the test reads them with basic.get, no retry or dead-letter queues needed.
TOPIC_QUEUE = Queue(
    "thirdparty.payments", binds=(Binding(PAYMENTS, "payment.#"),), type=QueueType.CLASSIC, dead_letter=False
)
FANOUT_QUEUE = Queue(
    "thirdparty.broadcast", binds=(Binding(BROADCAST),), type=QueueType.CLASSIC, dead_letter=False
)
PAYMENTS_TASK_QUEUES = tuple(q for q in TOPOLOGY.queues if q.owner == "payments")  # its periodic tasks
TEST_TOPOLOGY = Topology(
    exchanges=(PAYMENTS, BROADCAST, TASKS),
    queues=(TOPIC_QUEUE, FANOUT_QUEUE, *PAYMENTS_TASK_QUEUES),
    routes=TOPOLOGY.routes,
)


def an_order(**overrides: Any) -> dict[str, Any]:
    """An order as the orders service returns it: two lines, 3499 minor units in total."""
    order: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": "pending",
        "email": "ada@example.com",
        "items": [
            {"product_id": str(uuid.uuid4()), "name": "Blue mug", "quantity": 2, "unit_price": 1500,
             "line_total": 3000},
            {"product_id": str(uuid.uuid4()), "name": "Tea sampler", "quantity": 1, "unit_price": 499,
             "line_total": 499},
        ],
        "total": 3499,
        "currency": "eur",
        "created_at": datetime.now(UTC).isoformat(),
        "payment_deadline": (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat(),
        "paid_at": None,
        "refunded_amount": 0,
        "checkout_session_id": None,
        "payment_intent_id": None,
    }  # fmt: skip
    return order | overrides


@dataclass
class Received:
    message: aio_pika.abc.AbstractIncomingMessage
    body: dict[str, Any]


@dataclass
class Harness:
    """One test's payments API (served), stand-in, relay and third-party queues."""

    url: str
    http: httpx.AsyncClient
    sim: RunningSim
    sdk: stripe.StripeClient
    pool: asyncpg.Pool
    broker: Broker
    relay: Relay
    orders: dict[str, dict[str, Any]]  # what the stand-in orders service answers, by id
    settings: Settings  # the served app's: a test may set PAYMENTS_TAX_RATES once the sim has the rates

    async def checkout(self, order: dict[str, Any]) -> httpx.Response:
        """orders holds the order; the caller (the gateway) sends only its id."""
        self.orders[order["id"]] = order
        return await self.http.post("/checkout-sessions", json={"order_id": order["id"]})

    async def paid_session(self, order: dict[str, Any], outcome: str = "succeeded") -> str:
        response = await self.checkout(order)
        assert response.status_code == 201, response.text
        session_id = str(response.json()["session_id"])
        await self.sim.pay(session_id, outcome)
        return session_id

    async def post_event(self, event: dict[str, Any], *, secret: str = SECRET) -> httpx.Response:
        body = json.dumps(event)
        headers = {"Stripe-Signature": signature_header(secret, body), "Content-Type": "application/json"}
        return await self.http.post("/webhook", content=body.encode(), headers=headers)

    async def count(self, table: str) -> int:
        return int(await self.pool.fetchval(f"SELECT count(*) FROM {table}"))

    async def settled(self) -> int:
        """Wait for every webhook delivery to be answered 2xx and every outbox row to be sent."""

        async def done() -> bool:
            deliveries = await self.sim.deliveries()
            unsent = await self.pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            return all(d["delivered"] for d in deliveries) and unsent == 0

        await eventually(done, timeout=20)
        return await self.count("outbox")

    async def drain(self, queue: Queue) -> list[Received]:
        """Everything in a third-party queue right now (after `settled`, it is all there is)."""
        channel = await self.broker.connection.channel()
        out: list[Received] = []
        try:
            q = await channel.get_queue(self.broker.prefix + queue.name, ensure=False)
            while (message := await q.get(no_ack=True, fail=False)) is not None:
                out.append(Received(message, json.loads(message.body)))
        finally:
            await channel.close()
        return out

    async def published(self) -> list[Received]:
        """Drain both third-party queues; they must hold the same messages."""
        topic, fanout = await self.drain(TOPIC_QUEUE), await self.drain(FANOUT_QUEUE)
        assert [r.body for r in topic] == [r.body for r in fanout]
        return topic


def orders_app(orders: dict[str, dict[str, Any]]) -> Starlette:
    """The orders service's `GET /orders/{id}` as payments calls it, with the service credential."""

    async def get_order(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {SERVICE_TOKEN}":
            return JSONResponse({"detail": "not authenticated"}, 401)
        order = orders.get(request.path_params["order_id"])
        return JSONResponse(order) if order else JSONResponse({"detail": "order not found"}, 404)

    return Starlette(routes=[Route("/orders/{order_id}", get_order)])


def payments_settings(database_url: str, amqp_url: str, sim: RunningSim, orders_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        amqp_url=amqp_url,
        stripe_api_base=sim.base_url,
        stripe_secret_key=SecretStr(sim.api_key),
        stripe_webhook_secret=SecretStr(f"{SECRET},{OLD_SECRET}"),
        public_base_url="http://shop.test",
        payments_min_expires_in=1,
        payments_stripe_retries=0,
        payments_orders_url=orders_url,
        service_token=SecretStr(SERVICE_TOKEN),
    )


def sim_settings(webhook_url: str) -> SimSettings:
    return SimSettings(
        _env_file=None,  # type: ignore[call-arg]
        stripe_sim_webhook_url=webhook_url,
        stripe_webhook_secret=SecretStr(SECRET),
        stripe_sim_retry_base=0.05,
        stripe_sim_retry_max=0.2,
        stripe_sim_chaos_max_delay=0.3,
        stripe_sim_async_payment_delay=0,
        stripe_sim_expiry_interval=0.05,
        stripe_sim_min_expires_in=1,
    )


@contextlib.asynccontextmanager
async def running(*jobs: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """The worker's loops (the relay, the refund issuer) as tasks for the test's length."""
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def via_gateway(app: Any) -> Any:
    """The stand-in posts webhooks straight to payments: present the token as the gateway would."""
    auth = (b"authorization", f"Bearer {SERVICE_TOKEN}".encode())

    async def with_token(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/webhook":
            headers = [h for h in scope["headers"] if h[0] != b"authorization"]
            scope = scope | {"headers": [*headers, auth]}
        await app(scope, receive, send)

    return with_token


async def two_sessions_paid(harness: Harness, order: dict[str, Any]) -> tuple[str, str]:
    """The issue's reproduction: session A expires on our clock while Stripe still accepts it, so the
    customer gets session B too; then both are paid."""
    first = (await harness.checkout(order)).json()["session_id"]
    await harness.pool.execute(
        "UPDATE checkout_sessions SET expires_at = now() - interval '1 second' WHERE session_id = $1", first
    )
    second = (await harness.checkout(order)).json()["session_id"]
    assert second != first
    await harness.sim.pay(first)
    await harness.sim.pay(second)
    return first, second
