"""The message being handled, for log lines: set by the consumer around each delivery.

A contextvar, so every line a handler (or anything it calls) logs carries the message id, the
correlation id and the event type, whatever logger it uses; `runtime`'s formatter reads it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TypedDict


class Delivery(TypedDict, total=False):
    message_id: str
    correlation_id: str
    event_type: str


current: ContextVar[Delivery | None] = ContextVar("paybus_delivery", default=None)
