"""Gateway unit fixtures: create_app on an InMemoryUpstreams, driven through httpx.ASGITransport."""

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.deps import Deps
from gateway.main import create_app
from gateway.settings import Settings
from tests.unit.gateway.fakes import InMemoryUpstreams

BASE = "http://gateway.test"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def gateway_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def upstreams() -> InMemoryUpstreams:
    return InMemoryUpstreams()


@pytest.fixture
async def client(upstreams: InMemoryUpstreams) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings(), deps=Deps(upstreams=upstreams))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http
