"""Event schemas, one module per producer; importing this package registers them all."""

from messaging.events import orders, payments, tasks

__all__ = ["orders", "payments", "tasks"]
