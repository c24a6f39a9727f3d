"""The whole system, started as `make run` starts it (tools/run.py's plan), on free ports of its own.

Its own vhost (the session's `rabbit`) and database prefix (the session's `postgres`) keep it apart
from a running `make run` and from other test runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import pytest_asyncio

from chaos.system import load_run
from tests.support.servers import Postgres, Rabbit

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class System:
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]]
    logs: Path

    @property
    def gateway(self) -> str:
        return self.env["PUBLIC_BASE_URL"].rstrip("/")

    @property
    def stripe(self) -> str:
        return self.env["STRIPE_API_BASE"]

    @property
    def mailbox(self) -> str:
        return f"http://127.0.0.1:{self.env['MAILBOX_PORT']}"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway, timeout=15)


def _environment(run: ModuleType, rabbit: Rabbit, postgres: Postgres) -> dict[str, str]:
    ports = {
        k: str(run.free_port())
        for k in (
            "GATEWAY_PORT",
            "ORDERS_PORT",
            "PAYMENTS_PORT",
            "NOTIFIER_PORT",
            "ORDERS_WORKER_PORT",
            "PAYMENTS_WORKER_PORT",
            "NOTIFIER_WORKER_PORT",
            "STRIPE_SIM_PORT",
            "MAILBOX_PORT",
            "SMTP_PORT",
        )
    }
    return {
        **ports,
        "AMQP_URL": rabbit.url,
        "DATABASE_URL": postgres.dsn(postgres.prefix + "_e2e"),
        "RABBITMQ_MANAGEMENT_URL": rabbit.management_url,
        "DEV_STRIPE": "1",
        "DEV_MAILBOX": "1",
        "ORDER_PAYMENT_TTL": os.environ.get("E2E_ORDER_PAYMENT_TTL", "3600"),
        "STRIPE_SIM_ASYNC_PAYMENT_DELAY": "0.3",
    }


@pytest.fixture(scope="session")
def _run_module() -> ModuleType:
    return load_run()


@pytest_asyncio.fixture(scope="session")
async def system(rabbit: Rabbit, postgres: Postgres, _run_module: ModuleType) -> AsyncIterator[System]:
    run = _run_module
    env = run.settings(_environment(run, rabbit, postgres))
    await run.prepare(env)
    logs = ARTIFACTS / "e2e-logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = run.start(run.plan(env), env, logs)
    system = System(env, procs, logs)
    try:
        late = await asyncio.to_thread(run.wait_ready, run.plan(env), 180)  # a loaded 2-core CI machine
        if late:
            pytest.fail(f"not ready within 60 s: {late}; see {system.logs}", pytrace=False)
        yield system
    finally:
        await asyncio.to_thread(run.stop, procs)
