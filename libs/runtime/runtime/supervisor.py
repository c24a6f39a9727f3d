"""runtime: supervision of a process's long-running tasks (relay, consumers, LISTEN loop, jobs).

A task that ends or raises is logged with its traceback and started again after an exponential backoff.
One that fails `max_failures` times within `window` seconds makes `run()` raise `GaveUp`: the process
then exits non-zero and its own supervisor (compose `restart:`, Kubernetes) replaces it. A live process
never silently stops working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger(__name__)

TaskFactory = Callable[[], Awaitable[None]]


class GaveUp(Exception):
    """A supervised task kept failing; the process should exit so that it is replaced."""


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    maximum: float = 30.0
    max_failures: int = 5  # within `window` seconds: then give up
    window: float = 120.0

    def delay(self, failures: int) -> float:
        return float(min(self.maximum, self.initial * 2 ** max(0, failures - 1)))


class Supervisor:
    """`add` the tasks, `await run()` until `stop()`; `running` tells liveness which tasks are up."""

    def __init__(self, backoff: Backoff | None = None, registry: CollectorRegistry | None = None) -> None:
        self.backoff = backoff or Backoff()
        self._factories: dict[str, TaskFactory] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._up: dict[str, bool] = {}
        self._failures: dict[str, deque[float]] = {}
        self._stopping = False
        self._outcome: asyncio.Future[None] | None = None
        self.registry = registry or CollectorRegistry()
        self._restarts = Counter(
            "paybus_task_restarts", "Restarts of a supervised task after it ended or failed", ["task"],
            registry=self.registry,
        )  # fmt: skip
        self._running = Gauge(
            "paybus_task_up", "1 while a supervised task runs", ["task"], registry=self.registry
        )

    def add(self, name: str, factory: TaskFactory) -> None:
        if name in self._factories:
            raise ValueError(f"task {name!r} is supervised already")
        self._factories[name] = factory
        self._up[name] = False

    @property
    def running(self) -> dict[str, bool]:
        return dict(self._up)

    async def run(self) -> None:
        """Start every task; return once `stop()` was called, or raise GaveUp."""
        self._outcome = asyncio.get_running_loop().create_future()
        for name, factory in self._factories.items():
            self._tasks[name] = asyncio.create_task(self._keep(name, factory), name=name)
        await asyncio.shield(self._outcome)  # the caller drains and cancels, whichever way it ends

    def stop(self) -> None:
        """No more restarts; `run()` returns. Tasks keep running until `cancel()`: the caller drains first."""
        self._stopping = True
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(None)

    async def cancel(self, names: Iterable[str] | None = None) -> None:
        """Cancel the named tasks (all when None) and wait for them to end."""
        self._stopping = True
        chosen = [self._tasks[n] for n in (self._tasks if names is None else names) if n in self._tasks]
        for task in chosen:
            task.cancel()
        for task in chosen:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep(self, name: str, factory: TaskFactory) -> None:
        while True:
            self._set_up(name, True)
            try:
                await factory()
            except asyncio.CancelledError:
                self._set_up(name, False)
                raise
            except Exception:
                log.exception("supervised task %s failed", name)
            else:
                if not self._stopping:
                    log.error("supervised task %s ended unexpectedly", name)
            self._set_up(name, False)
            delay = None if self._stopping else self._failed(name)
            if delay is None:
                return
            log.warning("restarting %s in %.1fs (failure %d)", name, delay, len(self._failures[name]))
            await asyncio.sleep(delay)
            self._restarts.labels(name).inc()

    def _failed(self, name: str) -> float | None:
        """Count a failure in the window: the delay before the restart, or None once it is time to give up."""
        now = asyncio.get_running_loop().time()
        failures = self._failures.setdefault(name, deque())
        failures.append(now)
        while failures and failures[0] < now - self.backoff.window:
            failures.popleft()
        if len(failures) >= self.backoff.max_failures:
            self._give_up(name, len(failures))
            return None
        return self.backoff.delay(len(failures))

    def _give_up(self, name: str, failures: int) -> None:
        self._stopping = True
        log.critical(
            "supervised task %s failed %d times within %.0fs: giving up", name, failures, self.backoff.window
        )
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_exception(
                GaveUp(f"{name} failed {failures} times within {self.backoff.window}s")
            )

    def _set_up(self, name: str, up: bool) -> None:
        self._up[name] = up
        self._running.labels(name).set(1 if up else 0)
