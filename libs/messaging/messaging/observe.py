"""What consumers and inboxes saw, for whoever watches (runtime's metrics): one seam, no metrics library.

`Broker.observer` starts as `UNOBSERVED`; a process that exports metrics puts its own `Observer` there.
The consumer reports each delivery, each handler run and how each message was settled, labelled by the
queue it consumes; `Inbox.accept` reports each duplicate it absorbed through `watching`, which the
consumer sets for the task that handles a message.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Literal

Settled = Literal["acked", "ignored", "retried", "parked", "rejected"]
# why a message was parked: its handler kept failing, said retrying cannot help, its body did not
# validate, or its queue does not carry it from that publisher
ParkReason = Literal["failed", "permanent", "invalid", "refused"]


class Observer:
    """Does nothing: what a process that exports no metrics watches with; a metrics module overrides it."""

    def delivered(self, queue: str) -> None:
        """A message arrived on `queue`."""

    def handled(self, queue: str, seconds: float, *, ok: bool) -> None:
        """A handler ran for `seconds` (held runs while the database was away included)."""

    def settled(self, queue: str, outcome: Settled, reason: ParkReason | None = None) -> None:
        """The message left `queue`: acked after its handler, ignored, moved to a retry queue or the DLQ,
        or rejected to the broker's dead-lettering when moving it failed."""

    def duplicate(self, consumer: str) -> None:
        """An inbox found the message id already claimed by `consumer`: the repeat had no effect."""


UNOBSERVED = Observer()
watching: ContextVar[Observer] = ContextVar("paybus_observer", default=UNOBSERVED)
