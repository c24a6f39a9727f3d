"""Trace context across the outbox: captured with the row in the writer's transaction, restored by the relay.

Only the OpenTelemetry API: without an SDK set up (unit tests, the CLI) nothing is current and nothing
is stored. aio-pika's instrumentation (set up by runtime) then writes the restored context into the
message's `traceparent` header and continues it in each consumer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from aio_pika.abc import AbstractIncomingMessage
from opentelemetry import context, propagate, trace
from opentelemetry.trace import Status, StatusCode


def captured() -> str | None:
    """The current context as the propagator writes it (JSON), or None outside any trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return json.dumps(carrier) if carrier else None


@contextlib.contextmanager
def restored(stored: str | None) -> Iterator[None]:
    """Make a captured context current for the duration (the relay's publish of one row)."""
    if stored is None:
        yield
        return
    token = context.attach(propagate.extract(json.loads(stored)))
    try:
        yield
    finally:
        context.detach(token)


def name_delivery(queue: str, message: AbstractIncomingMessage, attempt: int) -> None:
    """Name the CONSUMER span aio-pika's instrumentation opened for this delivery after the queue, and
    say which message and which attempt it is (a retry comes back through the service's own exchange,
    whose name alone would not tell it apart)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.update_name(f"{queue} process")
    span.set_attributes(
        {
            "messaging.operation.type": "process",
            "messaging.destination.name": queue,
            "messaging.rabbitmq.destination.routing_key": message.routing_key or "",
            "messaging.message.id": message.message_id or "",
            "messaging.message.conversation_id": message.correlation_id or "",
            "paybus.event_type": message.type or "",
            "paybus.attempt": attempt,
        }
    )


def delivery_failed(outcome: str, reason: str, error: BaseException | None = None) -> None:
    """Mark the delivery's span failed; `outcome` says what became of the message (retry, parked)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    if error is not None:
        span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, reason[:200]))
    span.set_attribute("paybus.outcome", outcome)
