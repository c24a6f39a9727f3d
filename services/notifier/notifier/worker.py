"""notifier: the worker process: consumes its two queues and sends e-mails until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import asyncpg
from prometheus_client import start_http_server

from messaging import runtime
from messaging.broker import Broker, Consumer, connect
from messaging.db import create_pool
from messaging.migrations import prepare_database
from messaging.topology import TOPOLOGY, Topology
from notifier.deps import Deps, pg_transaction
from notifier.handlers import HANDLERS, ORDERS_QUEUE, PAYMENTS_QUEUE
from notifier.mailer import SmtpMailer
from notifier.metrics import Metrics
from notifier.render import Composer
from notifier.settings import Settings

log = logging.getLogger(__name__)
SERVICE = "notifier"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def build_mailer(settings: Settings) -> SmtpMailer:
    password = settings.notifier_smtp_password
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        timeout=settings.notifier_smtp_timeout,
        username=settings.notifier_smtp_username,
        password=password.get_secret_value() if password else None,
        start_tls=settings.notifier_smtp_starttls,
        connections=settings.notifier_smtp_connections,
    )


class Worker:
    """Database, broker and one consumer per queue; `stop` drains messages in flight first."""

    def __init__(self, settings: Settings, *, topology: Topology = TOPOLOGY, prefix: str = "") -> None:
        self.settings = settings
        self.topology = topology
        self.prefix = prefix
        self.metrics = Metrics()
        self.pool: asyncpg.Pool[asyncpg.Record] | None = None
        self.broker: Broker | None = None
        self.consumers: list[Consumer[Deps]] = []
        self.mailer: SmtpMailer | None = None

    async def start(self) -> None:
        dsn = await prepare_database(self.settings.database_url, SERVICE, MIGRATIONS)
        # a connection for every message in progress (the send holds its e-mail's row lock), and two spare
        self.pool = await create_pool(dsn, max_size=2 * self.settings.notifier_prefetch + 2)
        self.broker = await connect(
            self.settings.amqp_url, name=SERVICE, topology=self.topology, prefix=self.prefix
        )
        if self.settings.amqp_declare_topology:
            await self.broker.declare()
        self.mailer = build_mailer(self.settings)
        deps = Deps(
            transaction=pg_transaction(self.pool),
            mailer=self.mailer,
            composer=Composer(self.settings.mail_from),
            base_url=self.settings.base_url,
            metrics=self.metrics,
        )
        for queue in (ORDERS_QUEUE, PAYMENTS_QUEUE):
            consumer = self.broker.consumer(
                self.topology.queue(queue), HANDLERS, deps, prefetch=self.settings.notifier_prefetch
            )
            await consumer.start()
            self.consumers.append(consumer)

    async def stop(self, grace: float = 30.0) -> None:
        await asyncio.gather(*(consumer.stop(grace) for consumer in self.consumers))
        self.consumers.clear()
        if self.mailer is not None:
            await self.mailer.close()
        broker, pool, self.broker, self.pool = self.broker, self.pool, None, None
        if broker is not None:
            await broker.close()
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(settings, prefix=settings.notifier_topology_prefix)
    if settings.notifier_worker_metrics_port is not None:
        port, registry = settings.notifier_worker_metrics_port, worker.metrics.registry
        start_http_server(port, settings.notifier_host, registry)
    async with worker:
        log.info("notifier worker: sending through %s:%d", settings.smtp_host, settings.smtp_port)
        await stop.wait()
        log.info("stopping: draining messages in flight")


def main(settings: Settings) -> None:
    runtime.run(serve(settings))
