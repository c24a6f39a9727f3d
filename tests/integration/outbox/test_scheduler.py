"""Periodic tasks on the real database and broker: one tick per period across replicas, restarts that
neither skip nor double a tick, ticks that survive a worker's death, and forged ticks refused."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from messaging import dlq
from messaging.event import Envelope
from messaging.events.tasks import Tick
from messaging.inbox import Inbox
from messaging.outbox import Relay
from messaging.scheduler import Schedule, Scheduler, period_start, run_ticks, tick
from messaging.topology import Exchange, ExchangeType, Topology, task_queue
from tests.support.ids import random_ref
from tests.support.waiting import eventually

TASKS = Exchange("paybus.tasks", ExchangeType.DIRECT)


class SweepDue(Tick):
    routing_key: ClassVar[str] = "svc.sweep"


class OtherDue(Tick):
    routing_key: ClassVar[str] = "svc.other"


SWEEP_QUEUE = task_queue(SweepDue)
TOPOLOGY = Topology(
    exchanges=(TASKS,),
    queues=(SWEEP_QUEUE, task_queue(OtherDue)),
    routes={SweepDue: (TASKS,), OtherDue: (TASKS,)},
    delay_levels=1,
)
CREATE_RUNS = "CREATE TABLE IF NOT EXISTS task_runs (message_id text NOT NULL, period timestamptz NOT NULL)"


async def _ticks(pool, task: str = SweepDue.routing_key) -> list[dict]:
    rows = await pool.fetch("SELECT body FROM outbox WHERE type = $1 ORDER BY seq", task)
    return [json.loads(row["body"])["data"] | {"id": json.loads(row["body"])["id"]} for row in rows]


async def _last_ticked_periods_ago(pool, periods: int, every: float) -> None:
    """As if the last tick was `periods` + 1 periods ago and no scheduler ran since."""
    start = period_start(datetime.now(UTC), every) - timedelta(seconds=periods * every)
    await pool.execute(
        "UPDATE scheduled_tasks SET next_due = $1 WHERE task = $2", start, SweepDue.routing_key
    )


async def test_twenty_replicas_racing_for_a_due_tick_claim_it_once(pool) -> None:
    schedulers = [Scheduler(pool, [Schedule(SweepDue, 60)], name=f"replica-{n}") for n in range(20)]
    await schedulers[0].register()

    claimed = await asyncio.gather(*(s.tick_once() for s in schedulers))

    assert sum(len(c) for c in claimed) == 1
    assert len(await _ticks(pool)) == 1
    assert sum(len(c) for c in await asyncio.gather(*(s.tick_once() for s in schedulers))) == 0


async def test_two_schedulers_running_side_by_side_send_one_tick_per_period(pool) -> None:
    every = 0.5
    replicas = [Scheduler(pool, [Schedule(SweepDue, every)], name=f"replica-{n}") for n in range(2)]
    runs = [asyncio.create_task(s.run()) for s in replicas]
    try:
        await eventually(lambda: _count_at_least(pool, 8), timeout=30, interval=0.1)
    finally:
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)

    ticks = await _ticks(pool)
    starts = [datetime.fromisoformat(t["period_start"]) for t in ticks]
    assert len(set(starts)) == len(starts), "a period was ticked twice"
    assert starts == sorted(starts)
    # every period from the first to the last was either ticked or folded into a later tick
    periods = round((starts[-1] - starts[0]).total_seconds() / every) + 1
    assert len(ticks) + sum(t["coalesced"] for t in ticks[1:]) == periods
    assert sum(s.stats.claimed for s in replicas) == len(ticks)


async def _count_at_least(pool, n: int) -> bool:
    return len(await _ticks(pool)) >= n


async def test_a_restart_after_missed_periods_runs_one_tick_that_says_how_many_it_folded(pool) -> None:
    every = 60.0
    await Scheduler(pool, [Schedule(SweepDue, every)], name="before-restart").register()
    await _last_ticked_periods_ago(pool, 5, every)

    restarted = Scheduler(pool, [Schedule(SweepDue, every)], name="after-restart")
    caught_up = await restarted.tick_once()
    again = await Scheduler(pool, [Schedule(SweepDue, every)], name="restarted-again").tick_once()

    assert len(caught_up) == 1
    assert again == []
    assert caught_up[0].data.coalesced == 5
    assert caught_up[0].data.period_start == period_start(datetime.now(UTC), every)
    row = await pool.fetchrow("SELECT next_due, ticks, coalesced, last_claimed_by FROM scheduled_tasks")
    assert row["next_due"] == caught_up[0].data.period_start + timedelta(seconds=every)
    assert (row["ticks"], row["coalesced"], row["last_claimed_by"]) == (1, 5, "after-restart")


async def test_a_period_ticked_before_is_not_ticked_again_when_its_row_moves_back(pool) -> None:
    every = 60.0
    scheduler = Scheduler(pool, [Schedule(SweepDue, every)], name="replica")
    assert len(await scheduler.tick_once()) == 1
    await _last_ticked_periods_ago(pool, 0, every)  # next_due back to the period just ticked

    assert await scheduler.tick_once() == []
    assert len(await _ticks(pool)) == 1
    assert await scheduler.until_next() > 0  # and the row moved on to the next period


async def test_a_changed_period_is_taken_over_and_due_at_once(pool) -> None:
    old = Scheduler(pool, [Schedule(SweepDue, 3600)], name="old")
    assert len(await old.tick_once()) == 1
    new = Scheduler(pool, [Schedule(SweepDue, 60)], name="new")
    [changed] = await new.tick_once()
    assert changed.data.every == 60
    assert await pool.fetchval("SELECT every FROM scheduled_tasks") == 60


def test_a_tick_id_is_the_same_for_every_copy_of_one_period() -> None:
    start = datetime(2026, 11, 29, 17, 5, tzinfo=UTC)
    assert tick(SweepDue, start, 300).id == tick(SweepDue, start, 300).id
    assert tick(SweepDue, start, 300).id != tick(SweepDue, start + timedelta(seconds=300), 300).id
    assert tick(SweepDue, start, 300).id != tick(OtherDue, start, 300).id
    with pytest.raises(ValueError, match="positive"):
        Schedule(SweepDue, 0)


async def test_a_tick_survives_the_worker_that_died_holding_it(pool, make_broker, prefix, rabbit) -> None:
    """Worker A takes the tick and dies mid-work (its AMQP connection and its database session gone,
    nothing committed): the broker redelivers the tick to worker B, which runs it; once in all."""
    await pool.execute(CREATE_RUNS)
    publisher = await make_broker(TOPOLOGY, prefix, name="test:tick-relay")
    await publisher.declare()
    worker_a = await make_broker(TOPOLOGY, prefix, name="test:tick-worker-a")
    worker_b = await make_broker(TOPOLOGY, prefix, name="test:tick-worker-b")
    holding, release = asyncio.Event(), asyncio.Event()
    a_backend: list[int] = []

    async def record(msg: Envelope[SweepDue], conn, deps) -> None:  # type: ignore[no-untyped-def]
        await conn.execute("INSERT INTO task_runs VALUES ($1, $2)", str(msg.id), msg.data.period_start)

    async def a_dies_mid_work(msg, conn, deps) -> None:  # type: ignore[no-untyped-def]
        if not a_backend:
            a_backend.append(conn.get_server_pid())
            await record(msg, conn, deps)  # the effect, not committed yet
            holding.set()
            await release.wait()
        await record(msg, conn, deps)

    inbox_a, inbox_b = Inbox(SWEEP_QUEUE.name), Inbox(SWEEP_QUEUE.name)
    consumer_a = worker_a.consumer(
        SWEEP_QUEUE, {SweepDue: run_ticks(pool, inbox_a, a_dies_mid_work)}, None, prefetch=1
    )
    consumer_b = worker_b.consumer(
        SWEEP_QUEUE, {SweepDue: run_ticks(pool, inbox_b, record)}, None, prefetch=1
    )
    relay = Relay(pool, publisher)
    await consumer_a.start()
    scheduler = Scheduler(pool, [Schedule(SweepDue, 3600)], name="scheduler")
    [sent] = await scheduler.tick_once()
    await relay.relay_once()
    await asyncio.wait_for(holding.wait(), 30)

    async with consumer_b:
        await worker_a.connection.close()  # A's process is gone: the broker requeues its unacked tick
        await pool.execute("SELECT pg_terminate_backend($1)", a_backend[0])  # and its transaction
        await eventually(lambda: inbox_b.delivered == 1, timeout=30)
        await eventually(lambda: _runs(pool), timeout=30)
        release.set()  # A's stranded handler ends: its connection is gone, the inbox absorbs its rerun
        await eventually(lambda: _done(pool, sent), timeout=30)
    runs = await pool.fetch("SELECT message_id FROM task_runs")
    assert [r["message_id"] for r in runs] == [str(sent.id)]


async def _runs(pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) FROM task_runs"))


async def _done(pool, sent: Envelope[SweepDue]) -> bool:
    done = await pool.fetchval("SELECT last_done_period FROM scheduled_tasks")
    return done == sent.data.period_start


async def test_forged_and_malformed_ticks_are_parked_never_run(pool, make_broker, prefix) -> None:
    """A tick of another task sent with this task's routing key, and a tick whose body is no tick, go
    to the DLQ with the reason; the handler never runs."""
    await pool.execute(CREATE_RUNS)
    broker = await make_broker(TOPOLOGY, prefix, name="test:tick-forger")
    await broker.declare()
    ran: list[str] = []

    async def work(msg, conn, deps) -> None:  # type: ignore[no-untyped-def]
        ran.append(str(msg.id))

    forged = tick(OtherDue, period_start(datetime.now(UTC), 60), 60)
    body = forged.model_dump_json().encode()
    meta = {"message_id": str(forged.id), "type": forged.type, "correlation_id": random_ref("c")}
    bad = {"message_id": random_ref("m"), "type": SweepDue.routing_key, "correlation_id": random_ref("c")}
    async with broker.consumer(SWEEP_QUEUE, {SweepDue: run_ticks(pool, Inbox(SWEEP_QUEUE.name), work)}, None):
        await broker.publish_raw(prefix + TASKS.name, SweepDue.routing_key, body, meta)  # type: ignore[arg-type]
        malformed = json.dumps({"id": random_ref("x"), "type": SweepDue.routing_key, "data": {}}).encode()
        await broker.publish_raw(prefix + TASKS.name, SweepDue.routing_key, malformed, bad)  # type: ignore[arg-type]
        await eventually(lambda: broker.stats.dead_lettered == 2, timeout=30)
    parked = {p.message_id: p.headers["x-error"] for p in await dlq.show(broker, prefix + SWEEP_QUEUE.name)}
    assert parked[bad["message_id"]].startswith("invalid body")
    assert parked[str(forged.id)].startswith("refused: svc.other is not carried by")
    assert ran == []
