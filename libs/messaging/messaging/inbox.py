"""Inbox: a consumer records each message id in the transaction of its effect; a repeat has none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg

from messaging._wire import Handler
from messaging.db import Conn
from messaging.event import Envelope

__all__ = ["CLAIM", "Inbox", "claim", "prune_inbox"]

D = TypeVar("D")
CLAIM = "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
PRUNE_INBOX = "DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)"
TxHandler = Callable[[Envelope[Any], Conn, D], Awaitable[None]]


async def claim(conn: Conn, consumer: str, message_id: str) -> bool:
    """True the first time this consumer sees the message id (call inside the effect's transaction)."""
    status: str = await conn.execute(CLAIM, consumer, message_id)
    return status == "INSERT 0 1"


async def prune_inbox(conn: Conn, older_than_seconds: float) -> int:
    status: str = await conn.execute(PRUNE_INBOX, older_than_seconds)
    return int(status.rsplit(" ", 1)[-1])


@dataclass
class Inbox(Generic[D]):
    """Wraps transactional handlers: claim + effect commit together, and only then is the message acked.

    `Consumer` acks after the wrapped handler returns, which is after the commit; a crash before the
    ack redelivers the message, and the claim makes that delivery a no-op.
    """

    pool: asyncpg.Pool[asyncpg.Record]
    consumer: str
    delivered: int = 0
    duplicates: int = 0

    def guard(self, handler: TxHandler[D]) -> Handler[D]:
        async def guarded(msg: Envelope[Any], deps: D) -> None:
            self.delivered += 1
            async with self.pool.acquire() as conn, conn.transaction():
                if not await claim(conn, self.consumer, str(msg.id)):
                    self.duplicates += 1
                    return
                await handler(msg, conn, deps)

        return guarded
