"""notifier: the worker process: consumes its two queues and sends e-mails, supervised by runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from messaging.broker import Consumer
from messaging.topology import NOTIFIER_ORDERS, NOTIFIER_PAYMENTS, TOPOLOGY, Topology
from notifier.deps import Deps, pg_session, pg_transaction
from notifier.handlers import HANDLERS
from notifier.mailer import SmtpMailer
from notifier.metrics import Metrics
from notifier.render import Composer
from notifier.settings import Settings
from runtime import Resources, WorkerParts
from runtime.messaging_metrics import messaging_metrics

SERVICE = "notifier"


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


@dataclass
class Running:
    """The worker's own objects, as WorkerParts.context (tests read the pool, the broker's stats)."""

    settings: Settings
    resources: Resources
    consumers: list[Consumer[Deps]] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)


def open_worker(
    settings: Settings, *, topology: Topology = TOPOLOGY, prefix: str | None = None
) -> Callable[[], AbstractAsyncContextManager[WorkerParts]]:
    """Database, broker, mailer and one consumer per queue (NOTIFIER_TOPOLOGY_PREFIX unless `prefix`)."""

    @asynccontextmanager
    async def parts() -> AsyncIterator[WorkerParts]:
        resources = await Resources.open(
            settings,
            SERVICE,
            name=f"{SERVICE}-worker",
            topology=topology,
            prefix=settings.notifier_topology_prefix if prefix is None else prefix,
            # a connection for every message in progress (the send holds its e-mail's row lock), two spare
            max_size=2 * settings.notifier_prefetch + 2,
        )
        mailer = build_mailer(settings)
        try:
            if settings.amqp_declare_topology:
                await resources.broker.declare()
            running = Running(settings, resources)
            deps = Deps(
                transaction=pg_transaction(resources.pool),
                mailer=mailer,
                composer=Composer(settings.mail_from, settings.seller()),
                base_url=settings.public_url,
                metrics=running.metrics,
                mail_per_address_per_hour=settings.mail_per_address_per_hour,
                shop_email=settings.notifier_shop_email or settings.mail_from,
                invoice_series=settings.shop_invoice_prefix,
                send_lease=3 * settings.notifier_smtp_timeout,  # connect and a few commands, with room
                session=pg_session(resources.pool),
            )
            for queue in (NOTIFIER_ORDERS.name, NOTIFIER_PAYMENTS.name):
                running.consumers.append(
                    resources.broker.consumer(
                        topology.queue(queue), HANDLERS, deps, prefetch=settings.notifier_prefetch
                    )
                )
            queues = [c.queue_name for c in running.consumers]
            messaging_registry, _ = messaging_metrics(resources.broker, queues=queues)
            yield WorkerParts(
                consumers=running.consumers,
                checks=resources.checks(),
                registries=[running.metrics.registry, messaging_registry],
                context=running,
            )
        finally:
            await mailer.close()
            await resources.close()

    return parts
