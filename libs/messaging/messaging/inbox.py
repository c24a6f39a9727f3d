"""Inbox: a consumer records each message id in the transaction of its effect; a repeat has none.

Every consumer claims every message it handles through `Inbox.accept`, inside the transaction that makes
the message's effect: the claim and the effect commit together, and only then is the message acked
(`Consumer` acks after the handler returns). A crash before the ack redelivers the message, and the
claim makes that delivery change nothing. The claim is stored by a `Claims` port: `PgClaims` on the
transaction's connection in production (the services' repositories are such ports), a set in unit tests.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import asyncpg

from messaging import observe
from messaging._wire import Handler
from messaging.db import Conn
from messaging.event import Envelope

__all__ = ["CLAIM", "Claims", "Inbox", "PgClaims", "prune_inbox"]

log = logging.getLogger(__name__)
D = TypeVar("D")
CLAIM = "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
PRUNE_INBOX = "DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)"
TxHandler = Callable[[Envelope[Any], Conn, D], Awaitable[None]]


class Claims(Protocol):
    """Where a consumer's claims live, inside the transaction of its effect."""

    async def claim(self, consumer: str, message_id: str) -> bool:
        """True the first time `consumer` claims `message_id` (in this transaction's view)."""
        ...


class PgClaims:
    """Claims in the shared `inbox` table, on the connection of the effect's transaction."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def claim(self, consumer: str, message_id: str) -> bool:
        status: str = await self._conn.execute(CLAIM, consumer, message_id)
        return status == "INSERT 0 1"


async def prune_inbox(conn: Conn, older_than_seconds: float) -> int:
    status: str = await conn.execute(PRUNE_INBOX, older_than_seconds)
    return int(status.rsplit(" ", 1)[-1])


@dataclass
class Inbox:
    """One consumer's inbox (`consumer` is the name of the queue it reads, from the topology)."""

    consumer: str
    delivered: int = 0
    duplicates: int = 0  # deliveries whose message had been claimed before: absorbed, no effect

    async def accept(self, claims: Claims, msg: Envelope[Any]) -> bool:
        """Claim `msg` in the effect's transaction: True the first time, False for a repeat (whose
        handler must then change nothing)."""
        self.delivered += 1
        if await claims.claim(self.consumer, str(msg.id)):
            return True
        self.duplicates += 1
        observe.watching.get().duplicate(self.consumer)  # the consumer handling this message watches
        log.info("%s: message %s (%s) seen before: no effect", self.consumer, msg.id, msg.type)
        return False

    def guard(self, pool: asyncpg.Pool[asyncpg.Record], handler: TxHandler[D]) -> Handler[D]:
        """A handler that runs `handler(msg, conn, deps)` in a transaction of its own, after `accept`."""

        async def guarded(msg: Envelope[Any], deps: D) -> None:
            async with pool.acquire() as conn, conn.transaction():
                if await self.accept(PgClaims(conn), msg):
                    await handler(msg, conn, deps)

        return guarded
