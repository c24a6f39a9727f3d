"""payments metrics: a registry per app, so several apps in one process (tests) do not collide."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter


def _registry() -> CollectorRegistry:
    return CollectorRegistry()


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.webhook_events = Counter(
            "payments_webhook_events",
            "Stripe events received, by type and what they did",
            ["type", "note"],
            registry=self.registry,
        )
        self.webhook_rejected = Counter(
            "payments_webhook_rejected",
            "Webhook requests refused before storing, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.checkouts = Counter(
            "payments_checkout_requests",
            "Checkout session requests, by result",
            ["result"],
            registry=self.registry,
        )
