"""Session fixtures and hooks: a real RabbitMQ (a vhost of our own) and PostgreSQL (databases of our own).

How the servers are found, and what happens when they are missing, is in tests/support/servers.py; every
importable helper lives in tests/support. Tests outside tests/unit are marked `integration` here, so
`pytest -m "not integration"` runs the unit tier.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

from messaging.management import Management, management_url
from tests.support.servers import (
    DEFAULT_AMQP,
    DEFAULT_DATABASE,
    REQUIRE,
    RUN_ID,
    Postgres,
    Rabbit,
    answers,
    docker_runs,
    missing,
    with_vhost,
)

# Each test declares whole topologies under its own prefix: classic queues keep a shared broker fast
# (quorum queues are the production default; tests that need quorum behaviour name QueueType.QUORUM).
os.environ.setdefault("PAYBUS_QUEUE_TYPE", "classic")
TESTS = Path(__file__).parent
UNIT = TESTS / "unit"
E2E = TESTS / "e2e"


@pytest.fixture(scope="session")
def _rabbit_server() -> Iterator[tuple[str, str]]:
    url = os.environ.get("AMQP_URL", DEFAULT_AMQP)
    if answers(url, 5672):
        yield url, os.environ.get("RABBITMQ_MANAGEMENT_URL", management_url(url))
        return
    if not docker_runs():
        missing(f"RabbitMQ does not answer at {url} and Docker is not running")
    from testcontainers.rabbitmq import RabbitMqContainer

    with ExitStack() as stack:
        box = stack.enter_context(RabbitMqContainer("rabbitmq:3-management").with_exposed_ports(5672, 15672))
        host = box.get_container_host_ip()
        amqp = f"amqp://guest:guest@{host}:{box.get_exposed_port(5672)}/"
        yield amqp, f"http://{host}:{box.get_exposed_port(15672)}"


@pytest_asyncio.fixture(scope="session")
async def rabbit(_rabbit_server: tuple[str, str]) -> AsyncIterator[Rabbit]:
    base_url, mgmt_url = _rabbit_server
    vhost = f"paybus-test-{RUN_ID}"
    user = urlsplit(base_url).username or "guest"
    # A loaded broker can take many seconds to add or delete a vhost.
    async with Management.for_amqp_url(base_url, mgmt_url, timeout=120) as mgmt:
        try:
            try:
                await mgmt.create_vhost(vhost)
            except Exception as exc:
                missing(f"RabbitMQ management API at {mgmt_url} refused: {exc!r}")
            await mgmt.set_permissions(vhost, user)
            yield Rabbit(base_url, with_vhost(base_url, vhost), vhost, mgmt_url)
        finally:
            await mgmt.delete_vhost(vhost)  # also when a timed-out create went through later


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if answers(url, 5432):
        yield url
        return
    if not docker_runs():
        missing(f"PostgreSQL does not answer at {url} and Docker is not running")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16-alpine", driver=None) as box:
        yield box.get_connection_url()


@pytest_asyncio.fixture(scope="session")
async def postgres(_postgres_server: str) -> AsyncIterator[Postgres]:
    server = Postgres(server_dsn=_postgres_server, prefix=f"paybus_test_{RUN_ID}")
    server.server_dsn = server.dsn("postgres")
    try:
        yield server
    finally:
        conn = await asyncpg.connect(server.server_dsn)
        try:
            rows = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", server.prefix + "%"
            )
            for row in rows:
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def prefix() -> str:
    """A per-test topology prefix, on top of the per-run vhost."""
    return f"t{uuid.uuid4().hex[:6]}."


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Expose each phase's report on the item (rep_call), so fixtures can react to a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if REQUIRE and skipped and exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(
                f"PAYBUS_REQUIRE_SERVICES=1 but {skipped} tests were skipped: failing the run"
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here outside tests/unit needs servers: mark it `integration` (tests/e2e also `e2e`)."""
    for item in items:
        path = item.path
        if path.is_relative_to(TESTS) and not path.is_relative_to(UNIT):
            item.add_marker(pytest.mark.integration)
        if path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)
