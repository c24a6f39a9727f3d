"""Dead-letter queues for operators: list their depth, show, replay into the original queue, purge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiormq
from aio_pika.abc import AbstractIncomingMessage

from messaging._wire import Meta
from messaging.broker import Broker
from messaging.management import Management
from messaging.topology import internal_exchange, owner_of

_PARK_HEADERS = {"x-error", "x-attempts", "x-failed-at", "x-attempt", "x-last-error", "x-death"}


@dataclass(frozen=True)
class Parked:
    message_id: str | None
    type: str | None
    correlation_id: str | None
    headers: dict[str, Any]
    body: str

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "type": self.type,
            "correlation_id": self.correlation_id,
            "headers": {k: _plain(v) for k, v in self.headers.items()},
            "body": self.body,
        }


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def dlq_name(queue: str) -> str:
    return queue if queue.endswith(".dlq") else f"{queue}.dlq"


async def depths(broker: Broker, management: Management, vhost: str, prefix: str = "") -> dict[str, int]:
    """Messages waiting in every dead-letter queue, counted now.

    The names come from the topology and from the management API (other teams' queues too); the
    counts from a passive declare of each, which the broker answers with the queue's current depth.
    The management API's own counts lag by its statistics interval: `dlq list` said 0 while `dlq
    show` already printed the parked message (issue #16).
    """
    names = {prefix + q.dlq_name for q in broker.topology.queues if q.dead_letter}
    names |= {
        str(q["name"])
        for q in await management.queues(vhost)
        if str(q["name"]).endswith(".dlq") and str(q["name"]).startswith(prefix)
    }
    out: dict[str, int] = {}
    for name in sorted(names):
        channel = await broker.connection.channel()  # a passive declare of a missing queue closes it
        try:
            declared = await channel.declare_queue(name, passive=True)
            out[name] = int(declared.declaration_result.message_count or 0)
        except aiormq.exceptions.ChannelNotFoundEntity:
            continue  # not declared on this broker
        finally:
            if not channel.is_closed:
                await channel.close()
    return out


async def show(broker: Broker, queue: str, limit: int = 20) -> list[Parked]:
    """Peek at parked messages; they stay in the queue (returned when the channel closes)."""
    channel = await broker.connection.channel()
    try:
        source = await channel.declare_queue(dlq_name(queue), passive=True)
        out = []
        for _ in range(limit):
            message = await source.get(no_ack=False, fail=False)
            if message is None:
                break
            out.append(_parked(message))
        return out
    finally:
        await channel.close()  # unacked messages go back to the queue


async def replay(broker: Broker, queue: str, limit: int | None = None) -> int:
    """Move parked messages back into the queue they failed on, each confirmed before its ack."""
    channel = await broker.connection.channel()
    moved = 0
    try:
        source = await channel.declare_queue(dlq_name(queue), passive=True)
        while limit is None or moved < limit:
            message = await source.get(no_ack=False, fail=False)
            if message is None:
                break
            target = str((message.headers or {}).get("x-queue") or dlq_name(queue).removesuffix(".dlq"))
            headers = {k: v for k, v in (message.headers or {}).items() if k not in _PARK_HEADERS}
            headers["x-replayed"] = int(str(headers.get("x-replayed", 0))) + 1
            meta: Meta = {
                "message_id": message.message_id or "",
                "type": message.type or "",
                "correlation_id": message.correlation_id or "",
                "timestamp": message.timestamp,
            }
            owner = internal_exchange(owner_of(target.removeprefix(broker.prefix)))
            await broker.publish_raw(broker.prefix + owner, target, message.body, meta, headers)
            await message.ack()
            moved += 1
        return moved
    finally:
        await channel.close()


async def purge(broker: Broker, queue: str) -> int:
    channel = await broker.connection.channel()
    try:
        source = await channel.declare_queue(dlq_name(queue), passive=True)
        result = await source.purge()
        return int(result.message_count or 0)
    finally:
        await channel.close()


def _parked(message: AbstractIncomingMessage) -> Parked:
    try:
        body = json.dumps(json.loads(message.body), indent=2)
    except ValueError:
        body = message.body.decode("utf-8", errors="replace")
    return Parked(message.message_id, message.type, message.correlation_id, dict(message.headers or {}), body)
