"""Prometheus metrics of one app instance, on a registry of its own (tests build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.created = Counter("orders_created", "Orders placed", registry=self.registry)
        self.rejected = Counter(
            "orders_rejected", "Order requests refused by the catalogue rules", registry=self.registry
        )
