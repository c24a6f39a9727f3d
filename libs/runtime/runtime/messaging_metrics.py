"""runtime: a worker's messaging figures on its /metrics: what its broker and its relay counted.

Read from `Broker.stats` and `Relay.stats` at each scrape (no second set of counters to keep in step);
the outbox lag is a database query, refreshed just before the scrape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from messaging.broker import Broker
from messaging.outbox import Relay

_BROKER = (  # Stats field, metric name (Prometheus adds _total), help
    ("published", "paybus_messages_published", "Messages the broker confirmed"),
    ("publish_retries", "paybus_publish_retries", "Publishes tried again after a connection or channel loss"),
    ("consumed", "paybus_messages_consumed", "Messages delivered to this process's consumers"),
    ("retried", "paybus_messages_retried", "Messages sent to a retry queue after their handler failed"),
    (
        "dead_lettered",
        "paybus_messages_parked",
        "Messages parked in a DLQ (failed, invalid or refused)",
    ),
    (
        "refused",
        "paybus_messages_refused",
        "Messages of a type not carried by their queue, or from the wrong user",
    ),
    ("ignored", "paybus_messages_ignored", "Messages of a carried type this consumer has no handler for"),
    ("held_for_database", "paybus_handler_runs_held", "Handler runs repeated in place: database unavailable"),
    ("handler_seconds", "paybus_handler_seconds", "Seconds spent in handlers"),
)
_RELAY = (
    ("published", "paybus_outbox_published", "Outbox rows published and marked sent"),
    ("failed", "paybus_outbox_failed", "Outbox rows not published (they wait and are tried again)"),
    ("outages", "paybus_outbox_database_outages", "Relay rounds that found the database unavailable"),
)


@dataclass(eq=False)  # the registry keeps collectors in a dict: identity hash
class _Messaging(Collector):
    broker: Broker
    relay: Relay | None
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
        for field, name, text in _RELAY:
            yield CounterMetricFamily(name, text, value=float(getattr(self.relay.stats, field)))
        yield GaugeMetricFamily(
            "paybus_outbox_lag_seconds", "Age of the oldest unsent outbox row (0: all sent)", value=self.lag
        )

    async def refresh(self) -> None:
        if self.relay is not None:
            self.lag = await self.relay.lag()


def messaging_metrics(
    broker: Broker, relay: Relay | None = None
) -> tuple[CollectorRegistry, Callable[[], Awaitable[None]]]:
    """A registry with the worker's messaging figures, and what to run before each scrape."""
    registry = CollectorRegistry(auto_describe=True)
    collector = _Messaging(broker, relay)
    registry.register(collector)
    return registry, collector.refresh
