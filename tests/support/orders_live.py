"""The orders service on the real servers: test topology and credentials, payments as the relay sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aio_pika.abc import AbstractIncomingMessage

from messaging._wire import meta_of
from messaging.broker import Broker
from messaging.event import Envelope
from messaging.topology import TOPOLOGY, Queue, Topology

TOKEN = "orders-integration-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The real exchanges and queues, with retry delays short enough to watch a message get parked.
FAST = (0.1, 0.2)
TEST_TOPOLOGY = Topology(
    exchanges=TOPOLOGY.exchanges,
    queues=(
        Queue("orders.payments", binds=TOPOLOGY.queue("orders.payments").binds, retry_delays=FAST),
        Queue("orders.deadlines", scheduled=True, retry_delays=FAST),
    ),
    routes=TOPOLOGY.routes,
    delay_levels=4,  # delays up to 15 s through the same binary delay levels as production
)


async def publish_payment(broker: Broker, envelope: Envelope[Any]) -> None:
    """As the payments service's relay does, onto `payments.events` (the topic exchange we bind to)."""
    body = envelope.model_dump_json().encode()
    await broker.publish_raw(broker.prefix + "payments.events", envelope.type, body, meta_of(envelope))


@dataclass
class Listener:
    """A queue of our own bound to `orders.events`: what other services would receive."""

    received: list[AbstractIncomingMessage] = field(default_factory=list)

    def of(self, routing_key: str, correlation_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(m.body)
            for m in self.received
            if m.type == routing_key and m.correlation_id == correlation_id
        ]
