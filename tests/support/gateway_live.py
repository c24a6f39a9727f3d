"""The gateway served by uvicorn on a free port, in front of the fake services of http_services."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gateway.main import create_app
from gateway.settings import Settings
from stripe_sim.testing import serving
from tests.support.http_services import FakeServices

TIMEOUT = 0.5  # the gateway's upstream timeouts here: the hanging service trips them quickly


@dataclass
class World:
    fakes: FakeServices
    urls: dict[str, str]  # service name -> base url
    gateway: str


def free_socket() -> socket.socket:
    # proto=IPPROTO_TCP: asyncio then sets TCP_NODELAY on accepted connections; with proto 0 it
    # does not, and every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def dead_url() -> str:
    """A port nobody listens on: bound, then closed, so connecting is refused."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


SERVICE_TOKEN = "gateway-test-service-token"


def settings_for(urls: dict[str, str], **overrides: object) -> Settings:
    values: dict[str, object] = {
        "gateway_orders_url": urls["orders"],
        "gateway_payments_url": urls["payments"],
        "gateway_notifier_url": urls["notifier"],
        "gateway_connect_timeout": TIMEOUT,
        "gateway_upstream_timeout": TIMEOUT,
        "gateway_ready_timeout": TIMEOUT,
        "service_token": SERVICE_TOKEN,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


@asynccontextmanager
async def serving_gateway(settings: Settings) -> AsyncIterator[str]:
    async with serving(create_app(settings), free_socket()) as url:
        yield url
