"""`python -m gateway api`: serves on GATEWAY_HOST:GATEWAY_PORT, reads the upstream urls, stops on SIGTERM."""

import asyncio
import os
import signal
import sys

import httpx

from tests.support.gateway_live import free_socket
from tests.support.waiting import eventually


async def _answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            return (await client.get(url)).status_code == 200
    except httpx.TransportError:
        return False


async def test_python_m_gateway_api_serves_until_sigterm(world, fakes):
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = os.environ | {
        "GATEWAY_PORT": str(port),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_ORDERS_URL": world.urls["orders"],
        "GATEWAY_PAYMENTS_URL": world.urls["payments"],
        "GATEWAY_NOTIFIER_URL": world.urls["notifier"],
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "api",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await eventually(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=20)
        assert await _answers(f"http://127.0.0.1:{port}/readyz")  # all three fakes are ready
        assert [c.path for c in fakes.seen["notifier"]] == ["/readyz"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    # uvicorn drains, runs the lifespan's shutdown, then re-raises SIGTERM for its exit status.
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in stderr
    assert b"Traceback" not in stderr
    assert b"gateway public at http://127.0.0.1:" in stderr
