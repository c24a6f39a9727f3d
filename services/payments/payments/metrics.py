"""payments metrics: a registry per app, so several apps in one process (tests) do not collide."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Checkout creation calls orders and Stripe: tens of milliseconds to seconds
CHECKOUT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _registry() -> CollectorRegistry:
    return CollectorRegistry()


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.webhook_verified = Counter(
            "payments_webhook_verified",
            "Webhook requests whose Stripe signature verified (duplicates included)",
            registry=self.registry,
        )
        self.webhook_rejected = Counter(
            "payments_webhook_rejected",
            "Webhook requests refused before storing, by reason: missing_signature, bad_signature,"
            " stale_timestamp, bad_body, bad_length, too_large",
            ["reason"],
            registry=self.registry,
        )
        self.webhook_events = Counter(
            "payments_webhook_events",
            "Stripe events stored, once each, by type and what they did (note)",
            ["type", "note"],
            registry=self.registry,
        )
        self.webhook_duplicates = Counter(
            "payments_webhook_duplicates",
            "Stripe events delivered again after they were stored (absorbed), by type",
            ["type"],
            registry=self.registry,
        )
        self.checkout_seconds = Histogram(
            "payments_checkout_duration_seconds",
            "Time to create (or reuse) a Checkout Session, by outcome: created, reused, unknown_order,"
            " not_payable, invalid, orders_unavailable, stripe_error",
            ["outcome"],
            buckets=CHECKOUT_BUCKETS,
            registry=self.registry,
        )
        self.webhook_verified.inc(0)
        for outcome in ("created", "reused"):
            self.checkout_seconds.labels(outcome)
        self.reconcile_repaired = Counter(
            "payments_reconcile_repaired",
            "Stripe events a reconciliation sweep found missing and applied, by type and what they did",
            ["type", "note"],
            registry=self.registry,
        )
        self.reconcile_sweeps = Counter(
            "payments_reconcile_sweeps", "Reconciliation sweeps completed", registry=self.registry
        )
        self.reconcile_seconds = Gauge(
            "payments_reconcile_sweep_seconds",
            "How long the last completed sweep took",
            registry=self.registry,
        )
        self.reconcile_lag = Gauge(
            "payments_reconcile_lag_seconds",
            "Age of the sweep checkpoint: seconds since the last completed sweep started (-1: none yet)",
            registry=self.registry,
        )


@dataclass
class RefundMetrics:
    """The worker's refund issuer (its own registry: the worker serves it beside the messaging one)."""

    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.refunds = Counter(
            "payments_refunds",
            "Calls to Stripe's Refund API for second payments, by result: issued, unavailable"
            " (tried again later), refused (kept for a person)",
            ["result"],
            registry=self.registry,
        )
        for result in ("issued", "unavailable", "refused"):
            self.refunds.labels(result)
