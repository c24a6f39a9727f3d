"""`python -m notifier worker|api` as processes: they serve, and stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httpx

from messaging.topology import TOPOLOGY
from tests.support.events import order_created
from tests.support.notifier_live import settings_for, to
from tests.support.waiting import eventually


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _spawn(command: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "notifier",
        command,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _terminate(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, stderr.decode(errors="replace")


async def _ready(client: httpx.AsyncClient) -> bool:
    """The process answers /readyz with 200 (not yet listening counts as not ready)."""
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


def _env(rabbit, postgres, prefix: str, smtp_port: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    settings = settings_for(rabbit, postgres, smtp_port)
    return {
        "AMQP_URL": settings.amqp_url,
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "MAIL_FROM": "shop@example.com",
        "PUBLIC_BASE_URL": "http://shop.test",
        "NOTIFIER_TOPOLOGY_PREFIX": prefix,
        "NOTIFIER_PORT": str(_free_port()),
        "NOTIFIER_WORKER_PORT": str(_free_port()),
        "SERVICE_TOKEN": "notifier-process-token",
    }


async def test_worker_and_api_processes_serve_and_stop_cleanly_on_sigterm(
    rabbit, postgres, prefix, mailbox, make_broker
) -> None:
    env = _env(rabbit, postgres, prefix, mailbox.smtp_port)
    publisher = await make_broker(TOPOLOGY, prefix)
    await publisher.declare()  # so the event waits in the queue however fast the worker starts
    worker = await _spawn("worker", env)
    api = await _spawn("api", env)
    try:
        await publisher.publish(order_created("proc@example.com"))
        mail = await mailbox.wait_for_one(to("proc@example.com"), timeout=30)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{env['NOTIFIER_PORT']}", timeout=5
        ) as client:
            await eventually(lambda: _ready(client), timeout=30, interval=0.2)
            assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}

            async def counted() -> bool:  # the mail arrives just before its row is marked sent
                return 'notifier_emails_stored{state="sent"} 1.0' in (await client.get("/metrics")).text

            await eventually(counted, timeout=10, interval=0.1)
        worker_url = f"http://127.0.0.1:{env['NOTIFIER_WORKER_PORT']}"
        async with httpx.AsyncClient(base_url=worker_url, timeout=5) as client:
            await eventually(lambda: _ready(client), timeout=30, interval=0.2)
            worker_live = (await client.get("/healthz")).json()
            worker_metrics = (await client.get("/metrics")).text
    finally:
        api_code, api_err = await _terminate(api)
        worker_code, worker_err = await _terminate(worker)
    assert mail.subject.startswith("We received your order")
    assert worker_code == 0, worker_err
    assert "draining" in worker_err
    assert worker_live["status"] == "ok"
    assert set(worker_live["checks"]) == {
        f"consumer:{prefix}notifier.orders",
        f"consumer:{prefix}notifier.payments",
    }
    assert 'outcome="sent"' in worker_metrics
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells how it ended
    assert api_code in (0, -signal.SIGTERM), api_err
    assert "Application shutdown complete" in api_err
