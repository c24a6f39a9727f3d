"""Gateway unit fixtures: create_app on an InMemoryUpstreams, driven through httpx.ASGITransport."""

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.deps import Deps
from gateway.main import create_app
from tests.support.gateway import BASE, InMemoryUpstreams, gateway_settings


@pytest.fixture
def upstreams() -> InMemoryUpstreams:
    return InMemoryUpstreams()


@pytest.fixture
async def client(upstreams: InMemoryUpstreams) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings(), deps=Deps(upstreams=upstreams))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http
