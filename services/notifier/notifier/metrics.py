"""notifier: Prometheus metrics, one registry per process (the API adds gauges read from the database)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.emails = Counter(
            "notifier_emails",
            "E-mail outcomes by template: sent, duplicate, transient, permanent, skipped, held (throttled)",
            ["template", "outcome"],
            registry=self.registry,
        )
        self.send_seconds = Histogram(
            "notifier_send_seconds",
            "Rendering (PDF included) and SMTP delivery of one e-mail",
            registry=self.registry,
        )
        self.stored = Gauge(
            "notifier_emails_stored",
            "E-mails recorded in the notifier database by state (intended ones are pending or in doubt)",
            ["state"],
            registry=self.registry,
        )
