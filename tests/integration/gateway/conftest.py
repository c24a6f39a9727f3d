"""Gateway integration fixtures: fake services and the gateway, each served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

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


@pytest.fixture(scope="module")
async def world() -> AsyncIterator[World]:
    # One set of servers per module: starting and stopping uvicorn is the slow part of these tests.
    fakes = FakeServices(release=asyncio.Event())
    async with AsyncExitStack() as stack:
        urls = {
            name: await stack.enter_async_context(serving(fakes.app(name), free_socket()))
            for name in fakes.seen
        }
        gateway = await stack.enter_async_context(serving_gateway(settings_for(urls)))
        try:
            yield World(fakes, urls, gateway)
        finally:
            fakes.reset()  # let hanging handlers finish so uvicorn stops promptly


@pytest.fixture
async def fakes(world: World) -> AsyncIterator[FakeServices]:
    world.fakes.reset()
    yield world.fakes
    world.fakes.reset()


@pytest.fixture
async def gateway(world: World, fakes: FakeServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=world.gateway, timeout=5, follow_redirects=False) as client:
        yield client
