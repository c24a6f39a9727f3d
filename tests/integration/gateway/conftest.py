"""Gateway integration fixtures: fake services and the gateway, each served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest

from stripe_sim.testing import serving
from tests.support.gateway_live import (
    World,
    free_socket,
    serving_gateway,
    settings_for,
)
from tests.support.http_services import FakeServices


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
