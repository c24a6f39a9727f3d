"""A notifier worker on the real servers (its own database and a test topology), and its e-mail rows."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from devmailbox.message import StoredMessage
from messaging.broker import Broker
from messaging.event import Envelope, Event
from messaging.settings import service_database_dsn
from messaging.topology import BROADCAST, NOTIFIER_ORDERS, NOTIFIER_PAYMENTS, ORDERS, TOPOLOGY, Topology
from notifier.settings import Settings
from notifier.worker import Running
from runtime.testing import RunningWorker
from tests.support.servers import Postgres, Rabbit
from tests.support.waiting import eventually

RETRY_DELAYS = (0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0)  # about 6 s of retries before the DLQ
TEST_TOPOLOGY = Topology(
    exchanges=(BROADCAST, ORDERS),
    queues=tuple(
        dataclasses.replace(queue, retry_delays=RETRY_DELAYS)
        for queue in (NOTIFIER_ORDERS, NOTIFIER_PAYMENTS)
    ),
    routes={
        event: tuple(x for x in exchanges if x in (BROADCAST, ORDERS))
        for event, exchanges in TOPOLOGY.routes.items()
    },
)
ALL_EMAILS = "SELECT order_id, kind, message_id, recipient, state, attempts, last_error FROM emails"


def settings_for(rabbit: Rabbit, postgres: Postgres, smtp_port: int, **overrides: Any) -> Settings:
    """Settings of one test's notifier: its own database (`<run prefix>_<id>_notifier`) and SMTP port."""
    fields = {
        "amqp_url": rabbit.url,
        "database_url": postgres.dsn(f"{postgres.prefix}_{uuid.uuid4().hex[:6]}"),
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "mail_from": "shop@example.com",
        "public_base_url": "http://shop.test",
        "notifier_smtp_timeout": 5.0,
        "service_token": "notifier-test-token",
    } | overrides
    return Settings(_env_file=None, **fields)


@dataclass
class Stand:
    """A running notifier worker (as `python -m notifier worker` runs it), a publisher on the same
    prefix, and the worker's database."""

    running: RunningWorker
    publisher: Broker
    prefix: str

    @property
    def worker(self) -> Running:
        running: Running = self.running.context
        return running

    async def publish(self, envelope: Envelope[Event]) -> None:
        await self.publisher.publish(envelope)

    @property
    def stats(self):  # type: ignore[no-untyped-def]
        return self.worker.resources.broker.stats

    async def emails(self) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(service_database_dsn(self.worker.settings.database_url, "notifier"))
        try:
            return list(await conn.fetch(ALL_EMAILS))
        finally:
            await conn.close()

    async def drain(self, consumed: int) -> list[asyncpg.Record]:
        """Wait until the worker took `consumed` deliveries, stop it (its consumers finish what is in
        flight) and return the e-mail rows: after this nothing more can be sent."""
        await eventually(lambda: self.stats.consumed >= consumed, timeout=15)
        if not self.running.task.done():
            assert await self.running.stopped() == 0
        return await self.emails()


StandFactory = Callable[..., Awaitable[Stand]]


def to(address: str) -> Callable[[StoredMessage], bool]:
    return lambda message: address in message.recipients()
