"""Fixtures for the orders integration tests: a migrated database, the real broker, a running worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest_asyncio
from aio_pika.abc import AbstractIncomingMessage

from messaging._wire import meta_of
from messaging.broker import Broker
from messaging.event import Envelope
from messaging.topology import TOPOLOGY, Queue, Topology
from orders.deps import Runtime
from orders.settings import Settings
from orders.worker import open_worker
from runtime.testing import RunningWorker
from runtime.testing import start_worker as start_running

TOKEN = "orders-integration-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The real exchanges and queues, with retry delays short enough to watch a message get parked.
FAST = (0.1, 0.2)
TEST_TOPOLOGY = Topology(
    exchanges=TOPOLOGY.exchanges,
    queues=(
        Queue("orders.payments", binds=TOPOLOGY.queue("orders.payments").binds, retry_delays=FAST),
        Queue("orders.deadlines", scheduled=True, retry_delays=FAST),
    ),
    routes=TOPOLOGY.routes,
    delay_levels=4,  # delays up to 15 s through the same binary delay levels as production
)


@pytest_asyncio.fixture
async def settings(postgres, rabbit) -> Settings:  # type: ignore[no-untyped-def]
    database_url = postgres.dsn(f"{postgres.prefix}_{uuid.uuid4().hex[:6]}")  # + "_orders" by the service
    return Settings(
        amqp_url=rabbit.url, database_url=database_url, order_payment_ttl=3600, service_token=TOKEN
    )


@pytest_asyncio.fixture
async def runtime(settings: Settings, prefix: str) -> AsyncIterator[Runtime]:
    opened = await Runtime.open(settings, "orders", name="test:orders", topology=TEST_TOPOLOGY, prefix=prefix)
    await opened.broker.declare()
    yield opened
    await opened.close()


@pytest_asyncio.fixture
async def start_worker(prefix: str) -> AsyncIterator[Callable[[Settings], Awaitable[RunningWorker]]]:
    started: list[RunningWorker] = []

    async def start(settings: Settings) -> RunningWorker:
        parts = open_worker(settings, topology=TEST_TOPOLOGY, prefix=prefix)
        worker = await start_running(parts, name="orders-worker")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if not worker.task.done():
            await worker.stopped()


async def publish_payment(broker: Broker, envelope: Envelope[Any]) -> None:
    """As the payments service's relay does, onto `payments.events` (the topic exchange we bind to)."""
    body = envelope.model_dump_json().encode()
    await broker.publish_raw(broker.prefix + "payments.events", envelope.type, body, meta_of(envelope))


@dataclass
class Listener:
    """A queue of our own bound to `orders.events`: what other services would receive."""

    received: list[AbstractIncomingMessage] = field(default_factory=list)

    def of(self, routing_key: str, correlation_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(m.body)
            for m in self.received
            if m.type == routing_key and m.correlation_id == correlation_id
        ]


@pytest_asyncio.fixture
async def listener(runtime: Runtime, prefix: str) -> AsyncIterator[Listener]:
    found = Listener()
    channel = await runtime.broker.connection.channel()
    queue = await channel.declare_queue(f"{prefix}test.orders-events.{uuid.uuid4().hex[:6]}", exclusive=True)
    await queue.bind(prefix + "orders.events", "order.*")

    async def keep(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        found.received.append(message)
        await message.ack()

    await queue.consume(keep)
    yield found
    await channel.close()
