"""Fixtures several integration packages share: brokers on this run's vhost, closed after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio

from messaging.broker import Broker, connect
from messaging.topology import Topology
from tests.support.servers import Rabbit

BrokerFactory = Callable[..., Awaitable[Broker]]


@pytest_asyncio.fixture
async def make_broker(rabbit: Rabbit, request) -> AsyncIterator[BrokerFactory]:  # type: ignore[no-untyped-def]
    """Connect brokers named after the test; every one is closed when the test ends."""
    opened: list[Broker] = []

    async def make(topology: Topology, prefix: str, *, name: str | None = None, **kwargs) -> Broker:  # type: ignore[no-untyped-def]
        broker = await connect(
            rabbit.url, name=name or f"test:{request.node.name}", topology=topology, prefix=prefix, **kwargs
        )
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        await broker.close()
