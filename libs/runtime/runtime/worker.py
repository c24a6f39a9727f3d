"""runtime: the worker process: supervised tasks, a health server in the same loop, signals, drain.

A service describes its worker as an async context manager yielding `WorkerParts`; entering it opens
the resources, leaving it closes them. `WorkerRunner` supervises each consumer's `run()` and every other
task, serves /healthz, /readyz and /metrics on the worker's port, and on SIGTERM/SIGINT drains: the
consumers stop taking messages and finish those in flight, then the other tasks (the relay) stop, then
the resources close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from messaging import runtime as loop_runtime
from runtime.health import Check, CheckFailed, Health
from runtime.health import router as health_router
from runtime.http import InLoopServer
from runtime.supervisor import Backoff, GaveUp, Supervisor, TaskFactory

log = logging.getLogger(__name__)


class Consumer(Protocol):
    """What the runner needs of messaging's Consumer."""

    @property
    def queue_name(self) -> str: ...

    @property
    def attached(self) -> bool: ...

    async def run(self) -> None: ...

    async def stop(self, grace: float = 30.0) -> None: ...


@dataclass
class WorkerParts:
    """One worker process: its consumers, its other long-running tasks, its readiness checks."""

    consumers: Sequence[Consumer] = ()
    tasks: Mapping[str, TaskFactory] = field(default_factory=dict)  # relay, scheduled jobs, ...
    checks: Mapping[str, Check] = field(default_factory=dict)  # broker, database, outbox lag
    registries: Iterable[CollectorRegistry] = ()
    before_scrape: Iterable[Callable[[], Awaitable[None]]] = ()  # refresh gauges before /metrics
    context: Any = None  # the service's own objects (tests reach the pool and broker through it)


OpenWorker = Callable[[], AbstractAsyncContextManager[WorkerParts]]


def attached_check(consumer: Consumer) -> Check:
    async def attached() -> None:
        if not consumer.attached:
            raise CheckFailed(f"not attached to {consumer.queue_name}")

    return attached


def liveness(supervisor: Supervisor) -> Mapping[str, Check]:
    def check(name: str) -> Check:
        async def up() -> None:
            if not supervisor.running.get(name, False):
                raise CheckFailed(f"{name} is not running")

        return up

    return {name: check(name) for name in supervisor.running}


class WorkerRunner:
    def __init__(
        self,
        open_worker: OpenWorker,
        *,
        name: str,
        host: str,
        port: int,
        grace: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._open = open_worker
        self.name = name
        self.grace = grace
        self.supervisor = Supervisor(backoff or Backoff())
        self.parts: WorkerParts | None = None
        self.started = asyncio.Event()  # set once the parts are open and their tasks supervised
        self.app = FastAPI(title=name, docs_url=None, redoc_url=None, openapi_url=None)
        self.app.include_router(health_router)
        starting = CheckFailed(f"{name} is starting")

        async def not_yet() -> None:
            raise starting

        self.app.state.health = Health(ready={"started": not_yet}, registries=[self.supervisor.registry])
        self._address = (host, port)
        self._port = 0
        self._server = InLoopServer(
            uvicorn.Config(self.app, host=host, port=port, lifespan="off", log_config=None, access_log=False)
        )

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0); 0 before `run`."""
        return self._port

    def _bind(self) -> socket.socket:
        """Bound here, before anything connects: a taken port fails the start at once."""
        sock = socket.socket(socket.AF_INET6 if ":" in self._address[0] else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(self._address)
        return sock

    async def run(self, stop: asyncio.Event) -> int:
        """Serve health, open the worker, supervise until `stop` is set (0) or a task gives up (1)."""
        sock = self._bind()
        self._port = int(sock.getsockname()[1])
        log.info(
            "%s health on http://%s:%d (/healthz /readyz /metrics)", self.name, self._address[0], self._port
        )
        server = asyncio.create_task(self._server.serve(sockets=[sock]), name=f"{self.name}-health")
        try:
            async with self._open() as parts:
                return await self._supervise(parts, stop)
        finally:
            self._server.should_exit = True
            await server

    async def _supervise(self, parts: WorkerParts, stop: asyncio.Event) -> int:
        consumers = self._install(parts)
        supervised = asyncio.create_task(self.supervisor.run(), name=f"{self.name}-supervisor")
        stopped = asyncio.create_task(stop.wait())
        self.started.set()
        log.info("%s running", self.name)
        try:
            await asyncio.wait({supervised, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await self._drain(consumers)
        try:
            await supervised
        except GaveUp as exc:
            log.critical("%s exits so that it is replaced: %s", self.name, exc)
            return 1
        log.info("%s stopped", self.name)
        return 0

    def _install(self, parts: WorkerParts) -> dict[str, Consumer]:
        """Supervise the consumers and the tasks; point the health routes at them."""
        self.parts = parts
        consumers = {f"consumer:{c.queue_name}": c for c in parts.consumers}
        for task, consumer in consumers.items():
            self.supervisor.add(task, consumer.run)  # attach, and keep attached until cancelled
        for task, factory in parts.tasks.items():
            self.supervisor.add(task, factory)
        attached = {t: attached_check(c) for t, c in consumers.items()}
        self.app.state.health = Health(
            ready={**parts.checks, **attached},
            live=liveness(self.supervisor),
            registries=[self.supervisor.registry, *parts.registries],
            before_scrape=parts.before_scrape,
        )
        return consumers

    async def _drain(self, consumers: dict[str, Consumer]) -> None:
        """Consumers stop taking messages and finish those in flight; then the relay and jobs stop.

        Each consumer's run() (it attaches again a consumer it finds detached) ends first, so that it
        cannot attach again while stop() waits for the messages in flight.
        """
        self.supervisor.stop()
        log.info("%s stopping: draining messages in flight", self.name)
        await self.supervisor.cancel(consumers)
        results = await asyncio.gather(
            *(c.stop(self.grace) for c in consumers.values()), return_exceptions=True
        )
        for task, result in zip(consumers, results, strict=True):
            if isinstance(result, BaseException):
                log.error("%s did not drain cleanly: %r", task, result)
        await self.supervisor.cancel()


async def serve_worker(open_worker: OpenWorker, *, name: str, host: str, port: int, grace: float) -> int:
    """Run until SIGTERM or SIGINT, then drain."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return await WorkerRunner(open_worker, name=name, host=host, port=port, grace=grace).run(stop)


def run_worker(open_worker: OpenWorker, *, name: str, host: str, port: int, grace: float) -> int:
    return loop_runtime.run(serve_worker(open_worker, name=name, host=host, port=port, grace=grace))
