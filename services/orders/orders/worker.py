"""Orders worker: consumes orders.payments and orders.deadlines and relays the outbox, supervised."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from messaging.outbox import Relay
from messaging.topology import ORDERS_DEADLINES, ORDERS_PAYMENTS, TOPOLOGY, Topology
from orders.deps import Runtime
from orders.handlers import DEADLINE_HANDLERS, PAYMENT_HANDLERS
from orders.settings import Settings
from runtime import WorkerParts
from runtime.messaging_metrics import messaging_metrics
from runtime.resources import outbox_lag_check


def open_worker(
    settings: Settings, *, topology: Topology = TOPOLOGY, prefix: str = "", prefetch: int = 32
) -> Callable[[], AbstractAsyncContextManager[WorkerParts]]:
    """The worker's parts for runtime's WorkerRunner; the context `runtime` is the orders Runtime."""

    @asynccontextmanager
    async def parts() -> AsyncIterator[WorkerParts]:
        runtime = await Runtime.open(
            settings, "orders", name="orders-worker", topology=topology, prefix=prefix
        )
        try:
            if settings.amqp_declare_topology:
                await runtime.broker.declare()
            deps = runtime.deps(settings)
            consumers = [
                runtime.broker.consumer(topology.queue(queue), handlers, deps, prefetch=prefetch)
                for queue, handlers in (
                    (ORDERS_PAYMENTS.name, PAYMENT_HANDLERS),
                    (ORDERS_DEADLINES.name, DEADLINE_HANDLERS),
                )
            ]
            relay = Relay(runtime.pool, runtime.broker)
            queues = [c.queue_name for c in consumers]
            registry, refresh = messaging_metrics(runtime.broker, relay, queues=queues, service="orders")
            yield WorkerParts(
                consumers=consumers,
                tasks={"relay": relay.run},
                checks={**runtime.checks(), "outbox": outbox_lag_check(relay, settings.outbox_max_lag)},
                registries=[registry],
                before_scrape=[refresh],
                context=runtime,
            )
        finally:
            await runtime.close()

    return parts
