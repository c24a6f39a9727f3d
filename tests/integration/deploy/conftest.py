"""A vhost of its own with the exported definitions imported, and one broker user per service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from messaging import definitions
from messaging.broker import Broker, connect
from tests.support.deploy_live import Connect, Secured, import_definitions
from tests.support.servers import Rabbit


@pytest_asyncio.fixture(scope="package")
async def secured(rabbit: Rabbit) -> AsyncIterator[Secured]:
    run = uuid.uuid4().hex[:6]
    vhost, prefix = f"paybus-deploy-{run}", f"d{run}."
    users = [a.user for a in definitions.access(prefix=prefix)]
    passwords = {user: uuid.uuid4().hex for user in users}
    document = definitions.export(vhost=vhost, prefix=prefix, passwords=passwords)
    await import_definitions(rabbit, document)
    try:
        yield Secured(rabbit, vhost, prefix, document, passwords)
    finally:
        async with rabbit.management() as management:
            for user in users:
                await management.delete_user(user)
            await management.delete_vhost(vhost)


@pytest_asyncio.fixture
async def connect_as(secured: Secured, request) -> AsyncIterator[Connect]:  # type: ignore[no-untyped-def]
    """A broker logged in as one service's user; publishes give up after 2 s instead of 60."""
    opened: list[Broker] = []

    async def make(role: str) -> Broker:
        broker = await connect(
            secured.url(role), name=f"test:{request.node.name}", prefix=secured.prefix, retry_for=2.0
        )
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        await broker.close()


@pytest.fixture(autouse=True)
def _quorum_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    """The imported definitions hold quorum queues: consumers must declare theirs with the same arguments."""
    monkeypatch.setenv("PAYBUS_QUEUE_TYPE", "quorum")
