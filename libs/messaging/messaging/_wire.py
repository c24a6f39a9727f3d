"""Wire-level pieces shared by the publisher and the consumer: AMQP message shape, errors, counters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict, TypeVar

import aio_pika
from aio_pika.abc import DeliveryMode

from messaging.event import Envelope, Event

D = TypeVar("D")


class _MetaRequired(TypedDict):
    message_id: str
    type: str
    correlation_id: str


class Meta(_MetaRequired, total=False):
    """The AMQP properties of a message, apart from its body."""

    timestamp: datetime | None


def meta_of(envelope: Envelope[Any]) -> Meta:
    return {
        "message_id": str(envelope.id),
        "type": envelope.type,
        "correlation_id": envelope.correlation_id,
        "timestamp": envelope.occurred_at,
    }


Handler = Callable[[Envelope[Any], D], Awaitable[None]]
Handlers = Mapping[type[Event], Handler[D]]


class PublishFailed(Exception):
    """The broker did not confirm a message in time; it may or may not have been delivered."""


class BrokerUnavailable(PublishFailed):
    """Not confirmed in time because the broker was down, restarting or unreachable: try again later."""


class PublishRefused(PublishFailed):
    """The broker refused this user access to the exchange (ACCESS_REFUSED)."""


class Unroutable(PublishFailed):
    """A mandatory message matched no queue: nothing received it."""


@dataclass
class Stats:
    published: int = 0
    publish_retries: int = 0
    consumed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    ignored: int = 0
    refused: int = 0  # a type the queue does not carry, or not from the service that publishes it
    held_for_database: int = 0  # handler runs repeated in place because the database was unavailable


def message(
    body: bytes,
    *,
    message_id: str,
    type: str,
    correlation_id: str,
    timestamp: datetime | None = None,
    headers: Mapping[str, Any] | None = None,
    user_id: str | None = None,
) -> aio_pika.Message:
    """An AMQP message as ARCHITECTURE.md fixes it: JSON, persistent, with ids, type and time."""
    return aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=message_id,
        correlation_id=correlation_id,
        type=type,
        timestamp=timestamp or datetime.now(UTC),
        headers=dict(headers or {}),
        user_id=user_id,  # the broker refuses a user_id that is not the connection's own user
    )
