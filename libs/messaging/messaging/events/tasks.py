"""Periodic tasks, sent by the scheduler to `paybus.tasks`: routing key = task name = `<owner>.<task>`."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from messaging.event import Event


class Tick(Event):
    """One run of a periodic task for one period. The envelope id is derived from (task, period), so a
    second copy of the same tick is the same message and the consumer's inbox absorbs it."""

    period_start: datetime  # the period [period_start, period_start + every) this run stands for
    every: float = Field(gt=0)  # seconds: the task's period when the tick was claimed
    coalesced: int = Field(default=0, ge=0)  # earlier periods no scheduler ran (down), folded into this one

    @classmethod
    def owner(cls) -> str:
        """The service that schedules and runs the task: the first word of its name."""
        return cls.routing_key.split(".", 1)[0]


class StripeReconciliationDue(Tick):
    """payments: list Stripe's events since the checkpoint and store any the webhook missed."""

    routing_key: ClassVar[str] = "payments.stripe_reconcile"


class PaymentsPruneDue(Tick):
    """payments: delete inbox rows older than the retention (the relay prunes sent outbox rows)."""

    routing_key: ClassVar[str] = "payments.prune"
