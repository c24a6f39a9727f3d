"""payments worker: relays the outbox (payment events) to the broker and issues the refunds of second
payments through Stripe; both supervised by runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from messaging.outbox import Relay
from messaging.topology import TOPOLOGY, Topology
from payments.main import stripe_gateway
from payments.metrics import RefundMetrics
from payments.repository import PgStore
from payments.services import run_refund_issuer
from payments.settings import Settings
from runtime import Resources, WorkerParts
from runtime.messaging_metrics import messaging_metrics
from runtime.resources import outbox_lag_check

log = logging.getLogger(__name__)


def open_worker(
    settings: Settings, *, topology: Topology = TOPOLOGY, prefix: str = ""
) -> Callable[[], AbstractAsyncContextManager[WorkerParts]]:
    """A batch cut short by the stop stays unsent and is published again (at least once)."""

    @asynccontextmanager
    async def parts() -> AsyncIterator[WorkerParts]:
        resources = await Resources.open(
            settings, "payments", name="payments-worker", topology=topology, prefix=prefix
        )
        relay = Relay(resources.pool, resources.broker)
        store, stripe, metrics = PgStore(resources.pool), stripe_gateway(settings), RefundMetrics()
        interval = settings.payments_refund_interval

        async def refunds() -> None:
            await run_refund_issuer(store, stripe, interval=interval, metrics=metrics)

        try:
            if settings.amqp_declare_topology:
                await resources.broker.declare()
            registry, refresh = messaging_metrics(resources.broker, relay, service="payments")
            yield WorkerParts(
                tasks={"relay": relay.run, "refunds": refunds},
                checks={**resources.checks(), "outbox": outbox_lag_check(relay, settings.outbox_max_lag)},
                registries=[registry, metrics.registry],
                before_scrape=[refresh],
                context=resources,
            )
        finally:
            log.info("payments worker stopped: %d published", relay.stats.published)
            await stripe.aclose()
            await resources.close()

    return parts
