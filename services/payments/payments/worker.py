"""payments worker: relays the outbox (payment events), issues the refunds of second payments through
Stripe, schedules the periodic tasks and runs their ticks (the reconciliation sweep, the inbox prune);
every loop supervised by runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from messaging.outbox import Relay
from messaging.scheduler import Scheduler, scheduler_name, task_consumers
from messaging.topology import TOPOLOGY, Topology
from payments import tasks
from payments.deps import Deps
from payments.main import deps_on
from payments.metrics import RefundMetrics
from payments.services import run_refund_issuer
from payments.settings import Settings
from payments.tasks import TASK_WORK, schedules
from runtime import Resources, WorkerParts
from runtime.messaging_metrics import messaging_metrics
from runtime.resources import broker_check, outbox_lag_check

log = logging.getLogger(__name__)


def open_worker(
    settings: Settings, *, topology: Topology = TOPOLOGY, prefix: str = ""
) -> Callable[[], AbstractAsyncContextManager[WorkerParts]]:
    """A batch cut short by the stop stays unsent and is published again (at least once); a tick cut
    short is redelivered and runs again (its inbox claim rolled back with it)."""

    @asynccontextmanager
    async def parts() -> AsyncIterator[WorkerParts]:
        resources = await Resources.open(
            settings, "payments", name="payments-worker", topology=topology, prefix=prefix
        )
        relay = Relay(resources.pool, resources.broker)
        scheduler = Scheduler(resources.pool, schedules(settings), name=scheduler_name("payments"))
        refund_metrics = RefundMetrics()
        try:
            if settings.amqp_declare_topology:
                await resources.broker.declare()
            async with deps_on(settings, resources.pool, broker_check(resources.broker)) as deps:

                async def refunds() -> None:
                    interval = settings.payments_refund_interval
                    await run_refund_issuer(
                        deps.store, deps.stripe, interval=interval, metrics=refund_metrics
                    )

                consumers = task_consumers(resources.broker, resources.pool, TASK_WORK, deps)
                queues = [c.queue_name for c in consumers]
                registry, refresh = messaging_metrics(
                    resources.broker, relay, queues=queues, service="payments"
                )
                yield WorkerParts(
                    consumers=consumers,
                    tasks={"relay": relay.run, "refunds": refunds, "scheduler": scheduler.run},
                    checks={**resources.checks(), "outbox": outbox_lag_check(relay, settings.outbox_max_lag)},
                    registries=[registry, refund_metrics.registry, deps.metrics.registry],
                    before_scrape=[refresh, _reconcile_lag(deps)],
                    context=resources,
                )
        finally:
            log.info(
                "payments worker stopped: %d published, %d ticks claimed",
                relay.stats.published,
                scheduler.stats.claimed,
            )
            await resources.close()

    return parts


def _reconcile_lag(deps: Deps) -> Callable[[], Awaitable[None]]:
    async def refresh() -> None:
        age = await tasks.checkpoint_age(deps)
        deps.metrics.reconcile_lag.set(-1.0 if age is None else age)

    return refresh
