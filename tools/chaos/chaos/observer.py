"""Chaos room: what the system did, seen from outside: `order.paid` events and receipts in the mailbox.

`order.paid` comes from a queue of our own bound to `orders.events` (as any other team would bind one);
a second message id for one order is a duplicate effect, the same id again is only a redelivery.
Receipts come from the dev mailbox's API: a second receipt for one order is a duplicate effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from datetime import datetime

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage

log = logging.getLogger(__name__)
RECEIPT_PREFIX = "<receipt."


class PaidEvents:
    """Consumes `order.paid` from its own quorum queue; reconnects (to any node) whenever it is cut off."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        self.amqp_url = amqp_url
        self.queue = queue
        self.ids: dict[str, set[str]] = defaultdict(set)  # order id -> message ids
        self.first_seen: dict[str, float] = {}
        self.redeliveries = 0
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), 60)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._consume_until_closed()
            except (TimeoutError, aio_pika.exceptions.AMQPError, OSError) as exc:
                log.info("observer: %s; reconnecting", exc)
            await asyncio.sleep(1)

    async def _consume_until_closed(self) -> None:
        connection = await aio_pika.connect(
            self.amqp_url, client_properties={"connection_name": "chaos-observer"}, timeout=10
        )
        closed = asyncio.Event()
        connection.close_callbacks.add(lambda *_: closed.set())
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(
                self.queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await queue.bind("orders.events", "order.paid")
            await queue.consume(self._on_message)
            self._ready.set()
            await closed.wait()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        body = json.loads(message.body)
        order_id = str(body["data"]["order_id"])
        message_id = str(message.message_id or body.get("id"))
        if message_id in self.ids[order_id]:
            self.redeliveries += 1
        self.ids[order_id].add(message_id)
        self.first_seen.setdefault(order_id, time.time())
        await message.ack()

    def duplicates(self, order_ids: set[str]) -> int:
        return sum(max(0, len(self.ids.get(o, ())) - 1) for o in order_ids)


async def receipts(mailbox: httpx.AsyncClient) -> dict[str, list[float]]:
    """Order id -> the times its receipts arrived at the mailbox (one entry per e-mail received)."""
    response = await mailbox.get("/api/messages", params={"subject": "Payment received"})
    response.raise_for_status()
    out: dict[str, list[float]] = defaultdict(list)
    for message in response.json():
        message_id = str(message["message_id"])
        if message_id.startswith(RECEIPT_PREFIX):
            order_id = message_id[len(RECEIPT_PREFIX) :].split("@", 1)[0]
            out[order_id].append(datetime.fromisoformat(message["received_at"]).timestamp())
    return out
