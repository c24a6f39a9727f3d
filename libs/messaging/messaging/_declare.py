"""Carries out a topology Plan on a channel: exchanges, queues, then bindings (idempotent)."""

from __future__ import annotations

from aio_pika import ExchangeType as PikaExchangeType
from aio_pika.abc import AbstractChannel

from messaging.topology import Plan


async def declare_plan(channel: AbstractChannel, plan: Plan) -> None:
    exchanges = {}
    for x in plan.exchanges:
        exchanges[x.name] = await channel.declare_exchange(
            x.name, PikaExchangeType(x.type.value), durable=True
        )
    queues = {}
    for q in plan.queues:
        queues[q.name] = await channel.declare_queue(q.name, durable=True, arguments=dict(q.arguments))
    for b in plan.bindings:
        source = exchanges.get(b.source) or await channel.get_exchange(b.source, ensure=False)
        if b.destination_type == "queue":
            await queues[b.destination].bind(source, b.routing_key, arguments=dict(b.arguments))
        else:
            destination = exchanges[b.destination]
            await destination.bind(source, b.routing_key, arguments=dict(b.arguments))
