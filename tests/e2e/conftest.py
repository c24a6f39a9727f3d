"""The whole system, started as `make run` starts it (tools/run.py's plan), on free ports of its own.

Its own vhost (the session's `rabbit`) and database prefix (the session's `postgres`) keep it apart
from a running `make run` and from other test runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from types import ModuleType

import pytest
import pytest_asyncio

from chaos.system import load_run
from tests.support.otlp import Collector, running
from tests.support.servers import Postgres, Rabbit
from tests.support.system import ARTIFACTS, System, system_environment


@pytest.fixture(scope="session")
def _run_module() -> ModuleType:
    return load_run()


@pytest.fixture(scope="session")
def _collector() -> Iterator[Collector]:
    with running() as collector:
        yield collector


@pytest_asyncio.fixture(scope="session")
async def system(
    rabbit: Rabbit, postgres: Postgres, _run_module: ModuleType, _collector: Collector
) -> AsyncIterator[System]:
    run = _run_module
    env = run.settings(system_environment(run, rabbit, postgres, _collector))
    await run.prepare(env)
    logs = ARTIFACTS / "e2e-logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = run.start(run.plan(env), env, logs)
    system = System(env, procs, logs, _collector)
    try:
        late = await asyncio.to_thread(run.wait_ready, run.plan(env), 180)  # a loaded 2-core CI machine
        if late:
            pytest.fail(f"not ready within 60 s: {late}; see {system.logs}", pytrace=False)
        yield system
    finally:
        await asyncio.to_thread(run.stop, procs)
