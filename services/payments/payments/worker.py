"""payments worker: relays the outbox (payment events) to the broker until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from messaging import runtime
from messaging.broker import connect
from messaging.db import create_pool
from messaging.migrations import prepare_database
from messaging.outbox import Relay
from messaging.topology import TOPOLOGY, Topology
from payments.main import MIGRATIONS_DIR
from payments.settings import Settings

log = logging.getLogger(__name__)


async def run(
    settings: Settings, stop: asyncio.Event, *, topology: Topology = TOPOLOGY, prefix: str = ""
) -> None:
    """Relay until `stop` is set; a batch cut short stays unsent and is published again (at least once)."""
    dsn = await prepare_database(settings.database_url, "payments", MIGRATIONS_DIR)
    pool = await create_pool(dsn)
    broker = await connect(settings.amqp_url, name="payments-worker", topology=topology, prefix=prefix)
    try:
        if settings.amqp_declare_topology:
            await broker.declare()
        relay = Relay(pool, broker)
        task = asyncio.create_task(relay.run())
        log.info("payments worker relaying the outbox")
        await stop.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("payments worker stopped: %d published", relay.stats.published)
    finally:
        await broker.close()
        await pool.close()


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(Settings(), stop)


def main() -> None:
    runtime.run(_main())
