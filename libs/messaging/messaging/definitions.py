"""The topology as a RabbitMQ definitions document the management UI (or a cluster) can import."""

from __future__ import annotations

from typing import Any

from messaging.topology import TOPOLOGY, Topology


def export(topology: Topology = TOPOLOGY, *, vhost: str = "/", prefix: str = "") -> dict[str, Any]:
    plan = topology.plan(prefix)
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [
            {
                "name": x.name,
                "vhost": vhost,
                "type": x.type.value,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for x in plan.exchanges
        ],
        "queues": [
            {
                "name": q.name,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": dict(q.arguments),
            }
            for q in plan.queues
        ],
        "bindings": [
            {
                "source": b.source,
                "vhost": vhost,
                "destination": b.destination,
                "destination_type": b.destination_type,
                "routing_key": b.routing_key,
                "arguments": dict(b.arguments),
            }
            for b in plan.bindings
        ],
    }
