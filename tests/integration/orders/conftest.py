"""Fixtures for the orders integration tests: a migrated database, the real broker, a running worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import pytest_asyncio

from orders.deps import Runtime
from orders.settings import Settings
from orders.worker import open_worker
from runtime.testing import RunningWorker
from runtime.testing import start_worker as start_running
from tests.support.orders_live import TEST_TOPOLOGY, TOKEN, Listener


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
