"""Transactional outbox: rows written in the caller's transaction, and the relay that publishes them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from messaging._tracing import captured, restored
from messaging.broker import Broker, BrokerUnavailable
from messaging.db import UNAVAILABLE, Conn, Outage, unavailable
from messaging.event import Envelope
from messaging.topology import Queue

__all__ = ["Relay", "RelayStats", "add_to_outbox", "outbox_lag"]

log = logging.getLogger(__name__)

ADD_TO_OUTBOX = """
INSERT INTO outbox
    (message_id, type, correlation_id, occurred_at, body, headers, target_queue, deliver_at, trace_context)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb)"""
CLAIM_BATCH = """
SELECT seq, message_id, type, correlation_id, occurred_at, body, headers, target_queue, deliver_at, attempts,
    trace_context
FROM outbox WHERE sent_at IS NULL AND available_at <= now()
ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"""
MARK_SENT = """
UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq = ANY($1::bigint[])"""
MARK_FAILED = """
UPDATE outbox SET attempts = attempts + 1, last_error = $2, available_at = now() + make_interval(secs => $3)
WHERE seq = $1"""
PRUNE_SENT = "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)"
OUTBOX_BACKLOG = """
SELECT count(*)::bigint, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
FROM outbox WHERE sent_at IS NULL"""
CHANNEL = "outbox"


async def add_to_outbox(
    conn: Conn,
    envelope: Envelope[Any],
    *,
    queue: Queue | None = None,
    delay: float = 0.0,
    headers: Mapping[str, Any] | None = None,
) -> None:
    """Write a message in the caller's transaction: published after commit, never after a rollback.

    Without `queue` it goes to the exchanges of its type's route; with `queue` straight into that
    queue, after `delay` seconds when given (the queue must be scheduled). The current trace context
    goes with the row, so that the message continues the trace that wrote it.
    """
    deliver_at = datetime.now(UTC) + timedelta(seconds=delay) if delay > 0 else None
    await conn.execute(
        ADD_TO_OUTBOX,
        envelope.id,
        envelope.type,
        envelope.correlation_id,
        envelope.occurred_at,
        envelope.model_dump_json().encode(),
        json.dumps(dict(headers or {})),
        queue.name if queue else None,
        deliver_at,
        captured(),
    )


async def outbox_lag(conn: Conn) -> float:
    """Age in seconds of the oldest unsent row (0 when everything is sent): the relay's lag."""
    return float(await conn.fetchval(OUTBOX_BACKLOG, column=1))


@dataclass
class RelayStats:
    published: int = 0
    failed: int = 0
    batches: int = 0
    pruned: int = 0
    outages: int = 0  # rounds that found the database unavailable
    by_type: dict[str, int] = field(default_factory=dict)  # published rows by message type


class Relay:
    """Publishes committed rows with confirms, then marks them sent, in one transaction per batch.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas share the table. A crash after
    publishing and before the commit leaves the rows unsent: they are published again (at least
    once; consumers' inboxes absorb the repeat). A row that fails waits with a growing backoff.
    """

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        broker: Broker,
        *,
        batch_size: int = 256,
        poll_interval: float = 1.0,
        retention: float = 7 * 86400,
        backoff_max: float = 60.0,
        after_publish: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self._broker = broker
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._retention = retention
        self._backoff_max = backoff_max
        self._after_publish = after_publish  # a fault hook for tests: runs between publish and mark
        self._wake = asyncio.Event()
        self._listener: PoolConnectionProxy[asyncpg.Record] | None = None
        self._on_lost: Callable[[object], None] | None = None  # the listener's termination callback
        self.stats = RelayStats()

    async def relay_once(self) -> int:
        """Publish one batch; return how many rows were marked sent."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(CLAIM_BATCH, self._batch_size)
            if not rows:
                return 0
            results = await asyncio.gather(*(self._publish(row) for row in rows), return_exceptions=True)
            if self._after_publish is not None:
                await self._after_publish(len(rows))
            sent = [row for row, result in zip(rows, results, strict=True) if result is None]
            await conn.execute(MARK_SENT, [row["seq"] for row in sent])
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    await self._mark_failed(conn, row, result)
        self.stats.batches += 1
        self.stats.published += len(sent)
        for row in sent:
            self.stats.by_type[row["type"]] = self.stats.by_type.get(row["type"], 0) + 1
        return len(sent)

    async def _publish(self, row: asyncpg.Record) -> None:
        with restored(row["trace_context"]):  # each row in its own task (gather): its own context
            await self._publish_row(row)

    async def _publish_row(self, row: asyncpg.Record) -> None:
        meta = {
            "message_id": str(row["message_id"]),
            "type": row["type"],
            "correlation_id": row["correlation_id"],
            "timestamp": row["occurred_at"],
        }
        headers = json.loads(row["headers"])
        if row["target_queue"] is None:
            await self._broker.publish_body(row["body"], meta, headers)  # type: ignore[arg-type]
            return
        queue = self._broker.topology.queue(row["target_queue"])
        delay = 0.0
        if row["deliver_at"] is not None:
            delay = (row["deliver_at"] - datetime.now(UTC)).total_seconds()
        await self._broker.send_body(queue, row["body"], meta, delay=delay, headers=headers)  # type: ignore[arg-type]

    async def _mark_failed(self, conn: Conn, row: asyncpg.Record, error: BaseException) -> None:
        attempts = row["attempts"] + 1
        pause = min(self._backoff_max, 0.5 * 2 ** min(attempts, 16)) * random.uniform(0.8, 1.2)
        if isinstance(
            error, BrokerUnavailable
        ):  # nothing wrong with the row: send it when the broker is back
            pause = min(pause, self._poll_interval)
        log.warning(
            "outbox %s (%s) not published, attempt %d: %r", row["message_id"], row["type"], attempts, error
        )
        await conn.execute(MARK_FAILED, row["seq"], f"{type(error).__name__}: {error}"[:1000], pause)
        self.stats.failed += 1

    async def prune(self) -> int:
        """Delete rows sent longer ago than the retention period."""
        async with self._pool.acquire() as conn:
            status: str = await conn.execute(PRUNE_SENT, self._retention)
        pruned = int(status.rsplit(" ", 1)[-1])
        self.stats.pruned += pruned
        return pruned

    async def lag(self) -> float:
        return (await self.backlog())[1]

    async def backlog(self) -> tuple[int, float]:
        """Unsent rows and the age in seconds of the oldest (0 when everything is sent)."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(OUTBOX_BACKLOG)
        assert row is not None  # an aggregate always answers one row
        return int(row[0]), float(row[1])

    def _notified(self, *args: object) -> None:
        self._wake.set()

    async def run(self, prune_every: float = 600.0) -> None:
        """Relay until cancelled: woken by NOTIFY on commit, polling as the fallback.

        An unavailable database (terminated backends, a restart) or broker never ends the loop: it
        waits with a growing pause and carries on where it left; rows claimed by a dead backend were
        unlocked with its transaction. Anything else is a bug and escapes to the supervisor.
        """
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        outage = Outage("relay")  # consecutive failed rounds: sets the pause before the next
        try:
            while True:
                self._wake.clear()
                if not self._broker.connected:  # aio-pika is reconnecting: rows would only wait
                    await self._sleep(self._poll_interval)
                    continue
                try:
                    await self._ensure_listening()
                    if loop.time() >= next_prune:
                        await self.prune()
                        next_prune = loop.time() + prune_every
                    full = await self.relay_once() == self._batch_size
                except Exception as exc:
                    if not unavailable(exc):
                        raise
                    self.stats.outages += 1
                    await self._sleep(outage.failed(exc))
                    continue
                outage.succeeded()
                if not full:  # when the batch was full more rows are waiting: no pause
                    await self._sleep(self._poll_interval)
        finally:
            await self._unlisten()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _ensure_listening(self) -> None:
        """LISTEN on a connection held out of the pool for the relay's life, again after it is lost.

        A terminated backend closes that connection and asyncpg releases it back to its pool on its
        own; its proxy then refuses every call. The termination listener tells us instead, and wakes
        the loop: a NOTIFY may have been lost with the connection.
        """
        if self._listener is not None:
            return
        conn = await self._pool.acquire()
        lost = functools.partial(self._listener_lost, conn)
        try:
            conn.add_termination_listener(lost)
            await conn.add_listener(CHANNEL, self._notified)
        except BaseException:
            with contextlib.suppress(asyncpg.InterfaceError):  # already released if its backend died
                conn.remove_termination_listener(lost)
                conn.terminate()  # whatever state it is in, it goes: the pool opens a fresh one
            raise
        self._listener, self._on_lost = conn, lost

    def _listener_lost(self, proxy: object, conn: object) -> None:
        if self._listener is proxy:  # not an earlier one whose end is only reported now
            log.warning("relay: LISTEN connection lost; polling until it is back")
            self._listener = None
        self._wake.set()

    async def _unlisten(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        if self._on_lost is not None:
            with contextlib.suppress(asyncpg.InterfaceError):
                listener.remove_termination_listener(self._on_lost)
        with contextlib.suppress(*UNAVAILABLE, OSError, asyncpg.InterfaceError):
            await listener.remove_listener(CHANNEL, self._notified)
        with contextlib.suppress(*UNAVAILABLE, OSError, asyncpg.InterfaceError):
            await asyncio.shield(self._pool.release(listener))
