"""Orders worker: consumes orders.payments and orders.deadlines, runs the outbox relay, drains on stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from messaging import runtime
from messaging.broker import Consumer
from messaging.outbox import Relay
from messaging.topology import TOPOLOGY, Topology
from orders.deps import Deps, Runtime
from orders.handlers import DEADLINE_HANDLERS, DEADLINES_CONSUMER, PAYMENT_HANDLERS, PAYMENTS_CONSUMER
from orders.settings import Settings

log = logging.getLogger(__name__)


class Worker:
    """Start with `await Worker.start(settings)`, stop with `await worker.stop()` (graceful)."""

    def __init__(self, runtime: Runtime, consumers: list[Consumer[Deps]], relay: Relay) -> None:
        self.runtime = runtime
        self.consumers = consumers
        self.relay = relay
        self._relay_task = asyncio.create_task(relay.run(), name="orders-relay")

    @classmethod
    async def start(
        cls, settings: Settings, *, topology: Topology = TOPOLOGY, prefix: str = "", prefetch: int = 32
    ) -> Worker:
        runtime = await Runtime.open(settings, name="orders-worker", topology=topology, prefix=prefix)
        try:
            if settings.amqp_declare_topology:
                await runtime.broker.declare()
            deps = runtime.deps(settings)
            consumers = [
                runtime.broker.consumer(
                    topology.queue(PAYMENTS_CONSUMER), PAYMENT_HANDLERS, deps, prefetch=prefetch
                ),
                runtime.broker.consumer(
                    topology.queue(DEADLINES_CONSUMER), DEADLINE_HANDLERS, deps, prefetch=prefetch
                ),
            ]
            for consumer in consumers:
                await consumer.start()
        except BaseException:
            await runtime.close()
            raise
        return cls(runtime, consumers, Relay(runtime.pool, runtime.broker))

    async def stop(self, grace: float = 30.0) -> None:
        """Stop taking messages, finish those in flight, then stop the relay and close."""
        for consumer in self.consumers:
            await consumer.stop(grace)
        self._relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._relay_task
        await self.runtime.close()


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then drain."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker = await Worker.start(settings)
    log.info("orders worker running")
    await stop.wait()
    log.info("orders worker stopping: draining messages in flight")
    await worker.stop()


def main(settings: Settings) -> None:
    runtime.run(serve(settings))
