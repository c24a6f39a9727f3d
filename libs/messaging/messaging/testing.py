"""InMemoryBroker: a fake of our own Publisher port for unit tests (FastStream's TestRabbitBroker)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from messaging._wire import Handlers
from messaging.event import Envelope, Event, parse
from messaging.topology import Queue

D = TypeVar("D")


@dataclass
class Sent:
    envelope: Envelope[Any]
    queue: str | None = None  # None: published to the event's exchanges
    delay: float = 0.0
    headers: Mapping[str, Any] = field(default_factory=dict)


class InMemoryBroker:
    """Records what was published; `deliver` runs handlers the way a consumer would (JSON round trip)."""

    def __init__(self) -> None:
        self.messages: list[Sent] = []

    async def publish(self, envelope: Envelope[Any], *, headers: Mapping[str, Any] | None = None) -> None:
        self.messages.append(Sent(envelope, headers=dict(headers or {})))

    async def send(self, envelope: Envelope[Any], queue: Queue, *, delay: float = 0.0) -> None:
        self.messages.append(Sent(envelope, queue=queue.name, delay=delay))

    @property
    def published(self) -> list[Envelope[Any]]:
        return [m.envelope for m in self.messages if m.queue is None]

    def of_type(self, model: type[Event]) -> list[Envelope[Any]]:
        return [m.envelope for m in self.messages if m.envelope.type == model.routing_key]

    async def deliver(self, envelope: Envelope[Any], handlers: Handlers[D], deps: D) -> bool:
        """Serialize and re-parse like the wire does, then run the handler; False if none handles it."""
        for model, handler in handlers.items():
            if model.routing_key == envelope.type:
                await handler(parse(envelope.model_dump_json(), model), deps)
                return True
        return False

    def clear(self) -> None:
        self.messages.clear()
