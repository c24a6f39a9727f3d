"""runtime: a worker's messaging figures on its /metrics: its consumers per queue, its broker, its relay.

Per queue, the consumers report through messaging's one observer seam (`Broker.observer`, filled here):
deliveries, acks, retries, parked messages by reason, handler latency, and the duplicates each inbox
absorbed. The process-wide figures are read from `Broker.stats` and `Relay.stats` at each scrape (no
second set of counters to keep in step); the outbox backlog is a database query, refreshed just before
the scrape. The names are those deploy/prometheus's rules and the Grafana dashboard use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from messaging.broker import Broker
from messaging.observe import Observer, ParkReason, Settled
from messaging.outbox import Relay
from messaging.topology import producer_of

HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BROKER = (  # Stats field, metric name (Prometheus adds _total), help
    ("published", "paybus_messages_published", "Messages the broker confirmed"),
    ("publish_retries", "paybus_publish_retries", "Publishes tried again after a connection or channel loss"),
    ("held_for_database", "paybus_handler_runs_held", "Handler runs repeated in place: database unavailable"),
)
_RELAY = (
    ("failed", "paybus_outbox_failed", "Outbox rows not published (they wait and are tried again)"),
    ("outages", "paybus_outbox_database_outages", "Relay rounds that found the database unavailable"),
)


class ConsumerMetrics(Observer):
    """messaging's `Observer`: what the consumers of this process saw, by queue."""

    def __init__(self, registry: CollectorRegistry, queues: Iterable[str] = ()) -> None:
        def counter(name: str, text: str, *labels: str) -> Counter:
            return Counter(name, text, labels, registry=registry)

        self.deliveries = counter("paybus_messages_delivered", "Messages delivered to a consumer", "queue")
        self.acked = counter("paybus_messages_acked", "Messages acked after their handler returned", "queue")
        self.ignored = counter(
            "paybus_messages_ignored", "Messages of a carried type no handler here takes (acked)", "queue"
        )
        self.retried = counter(
            "paybus_messages_retried", "Messages moved to a retry queue after their handler failed", "queue"
        )
        self.parked = counter(
            "paybus_messages_parked",
            "Messages parked in the queue's DLQ, by reason: failed, permanent, invalid, refused",
            "queue",
            "reason",
        )
        self.rejected = counter(
            "paybus_messages_rejected",
            "Messages not moved to a retry queue or DLQ: rejected, so the broker dead-letters them",
            "queue",
        )
        self._settled = {
            "acked": self.acked,
            "ignored": self.ignored,
            "retried": self.retried,
            "rejected": self.rejected,
        }
        self.handler_seconds = Histogram(
            "paybus_handler_duration_seconds",
            "Time one handler run took, by queue and outcome (ok, failed)",
            ["queue", "outcome"],
            buckets=HANDLER_BUCKETS,
            registry=registry,
        )
        self.duplicates = counter(
            "paybus_inbox_duplicates",
            "Deliveries an inbox found already applied (redelivered or republished): no second effect",
            "consumer",
        )
        for queue in queues:  # every series exists from the start: rates and alerts need no first event
            for family in (self.deliveries, self.acked, self.ignored, self.retried, self.rejected):
                family.labels(queue)
            self.parked.labels(queue, "failed")
            self.handler_seconds.labels(queue, "ok")

    def delivered(self, queue: str) -> None:
        self.deliveries.labels(queue).inc()

    def handled(self, queue: str, seconds: float, *, ok: bool) -> None:
        self.handler_seconds.labels(queue, "ok" if ok else "failed").observe(seconds)

    def settled(self, queue: str, outcome: Settled, reason: ParkReason | None = None) -> None:
        if outcome == "parked":
            self.parked.labels(queue, reason or "failed").inc()
            return
        self._settled[outcome].labels(queue).inc()

    def duplicate(self, consumer: str) -> None:
        self.duplicates.labels(consumer).inc()


@dataclass(eq=False)  # the registry keeps collectors in a dict: identity hash
class _Process(Collector):
    broker: Broker
    relay: Relay | None
    types: tuple[str, ...] = ()  # the event types this relay publishes: their series exist from the start
    unsent: int = 0
    lag: float = 0.0

    def collect(self) -> Iterator[Metric]:
        stats = self.broker.stats
        for field, name, text in _BROKER:
            yield CounterMetricFamily(name, text, value=float(getattr(stats, field)))
        up = GaugeMetricFamily("paybus_broker_ready", "1 while the connection and publish channel are up")
        up.add_metric([], 1.0 if self.broker.is_ready() else 0.0)
        yield up
        if self.relay is None:
            return
        published = CounterMetricFamily(
            "paybus_outbox_published", "Outbox rows published and marked sent, by type", labels=["type"]
        )
        counts = {**dict.fromkeys(self.types, 0), **self.relay.stats.by_type}
        for kind, count in sorted(counts.items()):
            published.add_metric([kind], float(count))
        yield published
        for field, name, text in _RELAY:
            yield CounterMetricFamily(name, text, value=float(getattr(self.relay.stats, field)))
        yield GaugeMetricFamily("paybus_outbox_unsent", "Outbox rows not yet published", value=self.unsent)
        yield GaugeMetricFamily(
            "paybus_outbox_lag_seconds", "Age of the oldest unsent outbox row (0: all sent)", value=self.lag
        )

    async def refresh(self) -> None:
        if self.relay is not None:
            self.unsent, self.lag = await self.relay.backlog()


def messaging_metrics(
    broker: Broker, relay: Relay | None = None, *, queues: Iterable[str] = (), service: str | None = None
) -> tuple[CollectorRegistry, Callable[[], Awaitable[None]]]:
    """A registry with the worker's messaging figures, and what to run before each scrape.

    Installs the consumer metrics as `broker.observer`. The consumed `queues`, and the events that
    `service` publishes through the relay, get their series at zero from the start: a counter that
    appears at 1 hides its first increase from Prometheus's rate() and increase().
    """
    registry = CollectorRegistry(auto_describe=True)
    types = tuple(sorted(e.routing_key for e in broker.topology.routes if producer_of(e) == service))
    collector = _Process(broker, relay, types)
    registry.register(collector)
    broker.observer = ConsumerMetrics(registry, queues)
    return registry, collector.refresh
