"""payments periodic tasks: what the worker schedules, and the work of each tick (run by
messaging.scheduler.run_ticks, which claims the tick in the inbox in the same transaction).

The reconciliation sweep: webhooks are the fast path, not the truth. An endpoint that was down or
answering 5xx for longer than Stripe retries leaves orders unpaid while the money is taken, so the
sweep asks Stripe for its events of the handled types and applies each one not stored yet through
services.record_stripe_event, the webhook's own store-once path: a late webhook after the sweep is a
duplicate, and so is a sweep after the webhook.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from messaging.db import Conn
from messaging.event import Envelope
from messaging.events.tasks import PaymentsPruneDue, StripeReconciliationDue, Tick
from messaging.scheduler import PRUNE_EVERY, Schedule, TickWork, prune
from payments import services
from payments.deps import Deps
from payments.domain import HANDLED_TYPES, InvalidEvent, StripeEvent, parse_event, sweep_window
from payments.settings import Settings

log = logging.getLogger(__name__)


def schedules(settings: Settings) -> list[Schedule]:
    return [
        Schedule(StripeReconciliationDue, settings.stripe_reconcile_interval),
        Schedule(PaymentsPruneDue, PRUNE_EVERY),
    ]


async def on_stripe_reconciliation_due(
    msg: Envelope[StripeReconciliationDue], conn: Conn, deps: Deps
) -> None:
    """One sweep. Stripe away raises: the tick is retried through the queue's retry ladder."""
    if msg.data.coalesced:
        log.info("reconcile: %d missed periods folded into this sweep", msg.data.coalesced)
    await sweep(deps)


TASK_WORK: dict[type[Tick], TickWork[Deps]] = {
    StripeReconciliationDue: on_stripe_reconciliation_due,
    PaymentsPruneDue: prune(),
}


@dataclass
class SweepResult:
    window_start: datetime
    listed: int = 0
    repaired: int = 0  # events not stored before, now applied
    notes: Counter[str] = field(default_factory=Counter)  # what each repaired event did
    checkpoint_moved: bool = False
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        return {
            "since": self.window_start.isoformat(),
            "listed": self.listed,
            "repaired": self.repaired,
            "notes": dict(self.notes),
            "checkpoint_moved": self.checkpoint_moved,
            "seconds": round(self.seconds, 3),
        }


async def sweep(deps: Deps, *, since: float | None = None) -> SweepResult:
    """One sweep; raises StripeUnavailable when Stripe does not answer (nothing is lost: the events
    stored so far stay stored, the checkpoint stays where it was, and the next sweep lists them again)."""
    started, began = deps.clock(), time.perf_counter()
    async with deps.store.transaction() as repo:
        checkpoint = await repo.reconcile_checkpoint()
    span = sweep_window(checkpoint, started, since)
    bodies = await deps.stripe.list_events(HANDLED_TYPES, int(span.start.timestamp()))
    events = [(body, event) for body in bodies if (event := _listed_event(body)) is not None]
    async with deps.store.transaction() as repo:
        known = await repo.known_events([event.id for _, event in events])
    result = SweepResult(span.start, listed=len(events))
    for body, event in events:  # oldest first, as Stripe created them
        if event.id in known:
            continue
        note = await services.record_stripe_event(body, event, deps)
        if note == "duplicate":  # the webhook stored it meanwhile
            continue
        result.repaired += 1
        result.notes[note] += 1
        deps.metrics.reconcile_repaired.labels(event.type, note).inc()
        log.warning("reconcile: stripe event %s (%s) was missing: %s", event.id, event.type, note)
    if span.covers_checkpoint:
        async with deps.store.transaction() as repo:
            await repo.save_reconcile_checkpoint(started, result.listed, result.repaired)
        result.checkpoint_moved = True
    result.seconds = time.perf_counter() - began
    deps.metrics.reconcile_sweeps.inc()
    deps.metrics.reconcile_seconds.set(result.seconds)
    log.info("reconcile: %s", result.summary())
    return result


def _listed_event(body: bytes) -> StripeEvent | None:
    try:
        return parse_event(body)
    except InvalidEvent as exc:  # Stripe's own list: never expected; say so and carry on
        log.error("reconcile: Stripe listed something that is not an event (%s); skipped", exc)
        return None


async def checkpoint_age(deps: Deps) -> float | None:
    """Seconds since the checkpoint (the start of the last sweep that moved it); None before the first."""
    async with deps.store.transaction() as repo:
        checkpoint = await repo.reconcile_checkpoint()
    return None if checkpoint is None else (deps.clock() - checkpoint).total_seconds()
