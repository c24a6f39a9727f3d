"""Periodic tasks: one tick per (task, period) across replicas, sent through the outbox to `paybus.tasks`.

Celery beat keeps its schedule in one process: two beats send every tick twice, and a beat that was
down forgets what it missed. Here the schedule is a row per task in the service's database
(`scheduled_tasks`). Every replica runs a `Scheduler`; a due tick is claimed by locking the task's row
(`FOR UPDATE SKIP LOCKED`) and moving `next_due` past now() in the same transaction that writes the
tick to the outbox, so exactly one replica wins each period and the relay publishes it once, with
confirms. The tick's message id is derived from (task, every, period start): a copy is the same
message, and the consuming worker's inbox absorbs it. Periods align to the Unix epoch and the clock is
the database's, so replicas agree on them whatever their own clocks say.

Restarts: a scheduler that comes back after missing periods runs the current period once and says how
many it folded into it (`Tick.coalesced`); it never replays each missed period, and never skips the
current one (the catch-up policy of cron's anacron and of most schedulers).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from messaging._consumer import Consumer
from messaging._wire import Handler
from messaging.broker import Broker
from messaging.db import Conn, Outage, unavailable
from messaging.event import Envelope, envelope_model
from messaging.events.tasks import Tick
from messaging.inbox import Inbox, prune_inbox
from messaging.outbox import add_to_outbox

__all__ = [
    "INBOX_RETENTION",
    "PRUNE_EVERY",
    "Schedule",
    "Scheduler",
    "SchedulerStats",
    "TickWork",
    "period_start",
    "prune",
    "run_ticks",
    "scheduler_name",
    "task_consumers",
    "tick",
    "tick_id",
]

log = logging.getLogger(__name__)
D = TypeVar("D")
TickWork = Callable[[Envelope[Any], Conn, D], Awaitable[None]]

_NAMESPACE = uuid.UUID("5f0c2a4e-7d1b-4c55-9a8e-2b7f3c1d9e60")  # paybus ticks
REGISTER = """
INSERT INTO scheduled_tasks (task, every, next_due) VALUES ($1, $2, now())
ON CONFLICT (task) DO UPDATE SET every = EXCLUDED.every, next_due = LEAST(scheduled_tasks.next_due, now())
WHERE scheduled_tasks.every <> EXCLUDED.every"""
CLAIM_DUE = """
SELECT every, next_due, now() AS now FROM scheduled_tasks
WHERE task = $1 AND next_due <= now() FOR UPDATE SKIP LOCKED"""
MARK_CLAIMED = """
UPDATE scheduled_tasks SET next_due = $2, last_period = $3, last_claimed_at = now(), last_claimed_by = $4,
    ticks = ticks + 1, coalesced = coalesced + $5
WHERE task = $1"""
TICKED = "SELECT EXISTS (SELECT 1 FROM outbox WHERE message_id = $1)"
UNTIL_NEXT = """
SELECT COALESCE(EXTRACT(EPOCH FROM min(next_due) - now())::float8, $2) FROM scheduled_tasks
WHERE task = ANY($1::text[])"""
MARK_DONE = """
UPDATE scheduled_tasks SET last_done_period = GREATEST(last_done_period, $2), last_done_at = now()
WHERE task = $1"""


@dataclass(frozen=True)
class Schedule:
    """Run `task` every `every` seconds (periods aligned to the Unix epoch)."""

    task: type[Tick]
    every: float

    def __post_init__(self) -> None:
        if not self.every > 0:
            raise ValueError(f"{self.task.routing_key}: the period must be positive, not {self.every!r}")


def period_start(now: datetime, every: float) -> datetime:
    """Start of the period of length `every` that holds `now`, aligned to the Unix epoch."""
    return datetime.fromtimestamp(math.floor(now.timestamp() / every) * every, UTC)


def tick_id(task: str, every: float, start: datetime) -> uuid.UUID:
    """The message id of a tick: the same for every copy of one (task, period)."""
    return uuid.uuid5(_NAMESPACE, f"{task}|{every!r}|{start.astimezone(UTC).isoformat()}")


def tick(model: type[Tick], start: datetime, every: float, coalesced: int = 0) -> Envelope[Tick]:
    """The envelope of `model`'s tick for the period starting at `start`."""
    message_id = tick_id(model.routing_key, every, start)
    return envelope_model(model)(
        id=message_id,
        type=model.routing_key,
        version=model.version,
        correlation_id=str(message_id),
        data=model(period_start=start, every=every, coalesced=coalesced),
    )


@dataclass
class SchedulerStats:
    claimed: int = 0
    outages: int = 0  # rounds that found the database unavailable


class Scheduler:
    """Claims due ticks of its schedules and writes them to the outbox; run one in every replica."""

    def __init__(
        self,
        pool: asyncpg.Pool[asyncpg.Record],
        schedules: Sequence[Schedule],
        *,
        name: str,
        max_sleep: float = 30.0,
    ) -> None:
        tasks = [s.task.routing_key for s in schedules]
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"a task is scheduled twice: {tasks}")
        self._pool = pool
        self._schedules = tuple(schedules)
        self._tasks = tasks
        self._name = name  # recorded as last_claimed_by: which process claimed a tick
        self._max_sleep = max_sleep  # wake at least this often: another replica may change a period
        self._registered = False
        self.stats = SchedulerStats()

    async def register(self) -> None:
        """Create each task's row, due now; a changed period is taken over and due at once."""
        async with self._pool.acquire() as conn:
            for schedule in self._schedules:
                await conn.execute(REGISTER, schedule.task.routing_key, float(schedule.every))
        self._registered = True

    async def tick_once(self) -> list[Envelope[Tick]]:
        """Claim every due tick this replica can lock; return the ticks written to the outbox."""
        if not self._registered:
            await self.register()
        claimed = []
        for schedule in self._schedules:
            envelope = await self._claim(schedule.task)
            if envelope is not None:
                claimed.append(envelope)
        return claimed

    async def _claim(self, model: type[Tick]) -> Envelope[Tick] | None:
        task = model.routing_key
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(CLAIM_DUE, task)
            if row is None:  # not due, or another replica is claiming it right now
                return None
            every, now = float(row["every"]), row["now"]
            start = period_start(now, every)
            missed = max(0, round((start - row["next_due"]).total_seconds() / every))
            envelope = tick(model, start, every, missed)
            await conn.execute(
                MARK_CLAIMED, task, start + timedelta(seconds=every), start, self._name, missed
            )
            if await conn.fetchval(TICKED, envelope.id):  # the row was moved back (a period changed
                log.info("%s: the period from %s was ticked already", task, start.isoformat())
                return None  # back and forth): that period's tick exists; wait for the next one
            await add_to_outbox(conn, envelope)
        self.stats.claimed += 1
        if missed:
            log.warning(
                "%s: %d missed periods coalesced into the tick of %s", task, missed, start.isoformat()
            )
        log.info("%s: tick %s for the period from %s", task, envelope.id, start.isoformat())
        return envelope

    async def until_next(self) -> float:
        """Seconds until the earliest next tick (0 if one is due), at most `max_sleep`."""
        async with self._pool.acquire() as conn:
            seconds = float(await conn.fetchval(UNTIL_NEXT, self._tasks, self._max_sleep))  # no rows: wait
        return min(self._max_sleep, max(0.0, seconds))

    async def run(self) -> None:
        """Claim ticks until cancelled (a supervised task). An unavailable database pauses it, with a
        growing pause of at most 5 s; anything else is a bug and escapes to the supervisor."""
        outage = Outage("scheduler")
        while True:
            try:
                await self.tick_once()
                pause = await self.until_next()
            except Exception as exc:
                if not unavailable(exc):
                    raise
                self.stats.outages += 1
                pause = outage.failed(exc)
            else:
                outage.succeeded()
            await asyncio.sleep(max(pause, 0.01))  # a tick due now was claimed above: no busy loop


def run_ticks(pool: asyncpg.Pool[asyncpg.Record], inbox: Inbox, work: TickWork[D]) -> Handler[D]:
    """The consumer's handler for a task queue: `work` runs in the transaction that claims the tick's
    id in the inbox and records it done, so a redelivered tick (a crash before the ack, a copy) is a
    no-op, and a crash before the commit lets the next delivery run it again."""

    async def done(msg: Envelope[Any], conn: Conn, deps: D) -> None:
        await work(msg, conn, deps)
        await conn.execute(MARK_DONE, msg.type, msg.data.period_start)

    return inbox.guard(pool, done)


def task_consumers(
    broker: Broker, pool: asyncpg.Pool[asyncpg.Record], work: Mapping[type[Tick], TickWork[D]], deps: D
) -> list[Consumer[D]]:
    """One consumer per task queue (from the broker's topology), one tick at a time: a long tick leaves
    the next one to another worker."""
    return [
        broker.consumer(
            broker.topology.queue(task.routing_key),
            {task: run_ticks(pool, Inbox(task.routing_key), run)},
            deps,
            prefetch=1,
        )
        for task, run in work.items()
    ]


def scheduler_name(service: str) -> str:
    """Which process claimed a tick (`last_claimed_by`): `<service>-worker@<host>:<pid>`."""
    return f"{service}-worker@{socket.gethostname()}:{os.getpid()}"


INBOX_RETENTION = 30 * 86400.0  # a message (or a DLQ replay of one) older than this may apply again
PRUNE_EVERY = 3600.0  # seconds between a service's inbox prunes (its `<service>.prune` task)


def prune(retention: float = INBOX_RETENTION) -> TickWork[Any]:
    """Work for a `<owner>.prune` tick: delete inbox rows older than `retention` seconds."""

    async def pruned(msg: Envelope[Any], conn: Conn, deps: Any) -> None:
        count = await prune_inbox(conn, retention)
        log.info("%s: %d inbox rows older than %.0f days pruned", msg.type, count, retention / 86400)

    return pruned
