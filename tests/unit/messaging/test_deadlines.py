"""Deadlines: one sweep task times out many awaits, as asyncio.timeout would, and nothing else."""

from __future__ import annotations

import asyncio

import pytest

from messaging._deadline import Deadlines


async def _guarded(deadlines: Deadlines, work: asyncio.Future[str] | None, sleep: float) -> str:
    task = deadlines.arm()
    try:
        if work is not None:
            return await work
        await asyncio.sleep(sleep)
        return "done"
    except asyncio.CancelledError:
        deadlines.raise_if_expired(task)
        raise
    finally:
        deadlines.disarm(task)


async def test_an_await_past_its_deadline_raises_timeout_error_and_others_finish() -> None:
    deadlines = Deadlines(0.05, tick=0.01)
    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    slow = asyncio.create_task(_guarded(deadlines, never, 0))
    fast = [asyncio.create_task(_guarded(deadlines, None, 0)) for _ in range(50)]
    assert await asyncio.gather(*fast) == ["done"] * 50
    with pytest.raises(TimeoutError):
        await slow
    assert not slow.cancelling()  # the sweep's cancel was taken back, as asyncio.timeout does
    await deadlines.close()


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    deadlines = Deadlines(10, tick=0.01)
    task = asyncio.create_task(_guarded(deadlines, None, 5))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await deadlines.close()


async def test_a_task_guarded_again_after_a_timeout_gets_a_fresh_deadline() -> None:
    deadlines = Deadlines(0.05, tick=0.01)

    async def twice() -> str:
        never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError):
            await _guarded(deadlines, never, 0)
        return await _guarded(deadlines, None, 0.01)  # a retry, as the publisher does

    assert await twice() == "done"
    await deadlines.close()
