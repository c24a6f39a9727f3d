"""runtime's WorkerRunner: health on a real port, supervision, drain order, and readiness that follows
the real broker and database."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx

from messaging.broker import connect
from messaging.db import create_pool
from runtime import Backoff, WorkerParts
from runtime.resources import broker_check, database_check
from runtime.testing import start_worker
from tests.support.waiting import eventually


class FakeConsumer:
    """Records the drain: stop() waits for the message in flight before it returns."""

    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.in_flight = asyncio.Event()
        self.attached = False

    @property
    def queue_name(self) -> str:
        return "demo.queue"

    async def run(self) -> None:
        self.attached = True
        try:
            await asyncio.Event().wait()
        finally:
            self.events.append("consumer run ended")

    async def stop(self, grace: float = 30.0) -> None:
        self.events.append("consumer stop asked")
        self.attached = False
        await asyncio.wait_for(self.in_flight.wait(), grace)
        self.events.append("consumer drained")


def _parts(**fields: Any) -> Any:
    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[WorkerParts]:
        yield WorkerParts(**fields)

    return opened


async def _get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        return await client.get(path)


async def test_liveness_names_a_task_waiting_to_restart_and_the_drain_finishes_messages_before_the_relay():
    events: list[str] = []
    consumer = FakeConsumer(events)
    relay_runs = 0

    async def relay() -> None:
        nonlocal relay_runs
        relay_runs += 1
        try:
            await asyncio.Event().wait()
        finally:
            events.append("relay stopped")

    async def crashing_job() -> None:
        raise RuntimeError("job bug")

    slow = Backoff(initial=60.0, max_failures=5)  # the job waits a minute to restart: we look meanwhile
    parts = _parts(consumers=[consumer], tasks={"relay": relay, "sweep": crashing_job})
    worker = await start_worker(parts, backoff=slow)
    failing = await eventually(lambda: _status(worker.port, "/healthz", 503), timeout=10)
    assert failing.json() == {
        "status": "failing",
        "checks": {"consumer:demo.queue": "ok", "relay": "ok", "sweep": "failed"},
    }
    ready = await _get(worker.port, "/readyz")
    assert ready.json() == {"status": "ready", "checks": {"consumer:demo.queue": "ok"}}
    metrics = (await _get(worker.port, "/metrics")).text
    assert 'paybus_task_up{task="sweep"} 0.0' in metrics

    worker.stop.set()
    await eventually(lambda: "consumer stop asked" in events, timeout=10)
    assert "relay stopped" not in events  # the relay keeps publishing while messages finish
    consumer.in_flight.set()
    assert await asyncio.wait_for(worker.task, 10) == 0
    # run() (which would attach again) ends before the drain; the relay stops after it
    assert events == ["consumer run ended", "consumer stop asked", "consumer drained", "relay stopped"]
    assert relay_runs == 1


async def _status(port: int, path: str, status: int) -> httpx.Response | None:
    response = await _get(port, path)
    return response if response.status_code == status else None


async def test_a_task_that_keeps_failing_makes_the_worker_exit_non_zero(caplog):
    async def broken_relay() -> None:
        raise ConnectionResetError("a bug the relay does not handle")

    quick = Backoff(initial=0.001, maximum=0.01, max_failures=3, window=60)
    worker = await start_worker(_parts(tasks={"relay": broken_relay}), backoff=quick)
    assert await asyncio.wait_for(worker.task, 10) == 1
    assert any("exits so that it is replaced" in r.getMessage() for r in caplog.records)
    with socket.socket() as probe:  # the health server went away with it
        assert probe.connect_ex(("127.0.0.1", worker.port)) != 0


async def test_readiness_follows_the_real_broker_and_database(rabbit, postgres):
    dsn = await postgres.create(f"_runtime_{uuid.uuid4().hex[:6]}")
    pool = await create_pool(dsn, min_size=1, max_size=2)
    broker = await connect(rabbit.url, name="test:runtime-readiness")
    checks = {"database": database_check(pool), "broker": broker_check(broker)}
    worker = await start_worker(_parts(checks=checks))
    try:
        ready = await _get(worker.port, "/readyz")
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}

        await broker.connection.close()
        down = await _get(worker.port, "/readyz")
        assert (down.status_code, down.json()["checks"]) == (503, {"database": "ok", "broker": "failed"})

        name = dsn.rsplit("/", 1)[-1]
        admin = await asyncpg.connect(postgres.server_dsn)
        try:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        gone = await _get(worker.port, "/readyz")
        assert gone.json()["checks"] == {"database": "failed", "broker": "failed"}
        assert "does not exist" not in gone.text
        assert (await _get(worker.port, "/healthz")).status_code == 200  # alive: nothing to restart
    finally:
        assert await worker.stopped() == 0
        await pool.close()
