"""Fixtures of the payments route tests: fake ports, and a client of the app that presents the token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from payments.deps import Deps
from payments.main import create_app
from tests.support.payments import SERVICE_TOKEN, make_deps


@pytest.fixture
def deps() -> Deps:
    return make_deps()


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(deps.settings, deps))
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://payments", headers=auth) as c:
        yield c
