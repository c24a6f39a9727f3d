"""runtime: a worker run in the test's own event loop, as `python -m <service> worker` runs it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from runtime.supervisor import Backoff
from runtime.worker import OpenWorker, WorkerParts, WorkerRunner


@dataclass
class RunningWorker:
    runner: WorkerRunner
    stop: asyncio.Event
    task: asyncio.Task[int]

    @property
    def parts(self) -> WorkerParts:
        assert self.runner.parts is not None, "the worker has not started"
        return self.runner.parts

    @property
    def context(self) -> Any:
        return self.parts.context

    @property
    def port(self) -> int:
        return self.runner.port

    async def stopped(self, within: float = 30.0) -> int:
        """Signal the stop (as SIGTERM does), wait for the drain; the exit status."""
        self.stop.set()
        return await asyncio.wait_for(self.task, within)


async def start_worker(
    open_worker: OpenWorker, *, name: str = "worker", grace: float = 5.0, backoff: Backoff | None = None
) -> RunningWorker:
    """Started on a free port; returns once its parts are open (raises what made the start fail)."""
    runner = WorkerRunner(open_worker, name=name, host="127.0.0.1", port=0, grace=grace, backoff=backoff)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop), name=name)
    started = asyncio.create_task(runner.started.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if not runner.started.is_set():
        started.cancel()
        await task  # raises the start's failure
        raise RuntimeError(f"{name} ended before it started")
    return RunningWorker(runner, stop, task)


@asynccontextmanager
async def running_worker(open_worker: OpenWorker, **options: Any) -> AsyncIterator[RunningWorker]:
    worker = await start_worker(open_worker, **options)
    try:
        yield worker
    finally:
        if not worker.task.done():
            await worker.stopped()
