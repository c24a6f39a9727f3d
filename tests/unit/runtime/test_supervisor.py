"""Supervisor: a task that fails is restarted with backoff; one that keeps failing makes run() give up."""

from __future__ import annotations

import asyncio
import logging

import pytest

from runtime.supervisor import Backoff, GaveUp, Supervisor
from tests.support.waiting import eventually

QUICK = Backoff(initial=0.001, maximum=0.01, max_failures=3, window=60)


def test_backoff_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 5, 9)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_a_failing_task_is_logged_with_its_traceback_and_restarted(caplog) -> None:
    starts = 0
    healed = asyncio.Event()

    async def flaky() -> None:
        nonlocal starts
        starts += 1
        if starts == 1:
            raise RuntimeError("boom")
        healed.set()
        await asyncio.Event().wait()

    supervisor = Supervisor(QUICK)
    supervisor.add("relay", flaky)
    run = asyncio.create_task(supervisor.run())
    await asyncio.wait_for(healed.wait(), 5)
    assert supervisor.running == {"relay": True}
    supervisor.stop()
    await run
    await supervisor.cancel()
    assert supervisor.running == {"relay": False}
    failed = [r for r in caplog.records if r.getMessage() == "supervised task relay failed"]
    assert failed
    assert failed[0].exc_info is not None
    assert "boom" in str(failed[0].exc_info[1])
    restarts = supervisor.registry.get_sample_value("paybus_task_restarts_total", {"task": "relay"})
    assert restarts == 1.0


async def test_a_task_that_returns_is_restarted_too(caplog) -> None:
    starts = 0

    async def returns_early() -> None:
        nonlocal starts
        starts += 1
        if starts > 1:
            await asyncio.Event().wait()

    supervisor = Supervisor(QUICK)
    supervisor.add("listen", returns_early)
    run = asyncio.create_task(supervisor.run())
    await eventually(lambda: starts == 2)
    supervisor.stop()
    await run
    await supervisor.cancel()
    assert any("ended unexpectedly" in r.getMessage() for r in caplog.records)


async def test_a_task_that_keeps_failing_makes_run_give_up_and_the_others_keep_running(caplog) -> None:
    caplog.set_level(logging.INFO)

    async def broken() -> None:
        raise ConnectionError("always")

    steady_started = asyncio.Event()

    async def steady() -> None:
        steady_started.set()
        await asyncio.Event().wait()

    supervisor = Supervisor(QUICK)
    supervisor.add("broken", broken)
    supervisor.add("steady", steady)
    with pytest.raises(GaveUp, match="broken failed 3 times"):
        await asyncio.wait_for(supervisor.run(), 5)
    assert steady_started.is_set()
    assert supervisor.running["steady"]
    await supervisor.cancel()
    assert supervisor.running == {"broken": False, "steady": False}
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


async def test_after_stop_a_task_that_ends_is_not_restarted() -> None:
    release = asyncio.Event()
    starts = 0

    async def drains() -> None:
        nonlocal starts
        starts += 1
        await release.wait()

    supervisor = Supervisor(QUICK)
    supervisor.add("consumer", drains)
    run = asyncio.create_task(supervisor.run())
    await eventually(lambda: supervisor.running["consumer"])
    supervisor.stop()
    await run
    release.set()
    await eventually(lambda: not supervisor.running["consumer"])
    await supervisor.cancel()
    assert starts == 1


def test_a_name_is_supervised_once() -> None:
    supervisor = Supervisor()

    async def task() -> None:
        return None

    supervisor.add("relay", task)
    with pytest.raises(ValueError, match="already"):
        supervisor.add("relay", task)
