"""Session fixtures: a real RabbitMQ (a vhost of our own) and PostgreSQL (databases of our own).

Servers come from AMQP_URL / DATABASE_URL when they answer, else from testcontainers when Docker
runs, else the tests that need them are skipped with the reason. With PAYBUS_REQUIRE_SERVICES=1
(set by .ci/run) a missing server fails the run instead: a green run without a broker is not green.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from messaging.management import Management, management_url

REQUIRE = os.environ.get("PAYBUS_REQUIRE_SERVICES") == "1"
# Each test declares whole topologies under its own prefix: classic queues keep a shared broker fast
# (quorum queues are the production default; tests that need quorum behaviour name QueueType.QUORUM).
os.environ.setdefault("PAYBUS_QUEUE_TYPE", "classic")
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/paybus"
RUN_ID = uuid.uuid4().hex[:8]


def random_ref(kind: str) -> str:
    """A unique, readable id for test data (Cosmic Python's random_ref)."""
    return f"{kind}-{uuid.uuid4().hex[:10]}"


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _docker_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _missing(what: str) -> None:
    message = f"{what}; start it, or run Docker so testcontainers can"
    if REQUIRE:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + vhost.replace("/", "%2F"), parts.query, ""))


@dataclass
class Rabbit:
    base_url: str  # the server, default vhost
    url: str  # this run's own vhost
    vhost: str
    management_url: str

    def management(self) -> Management:
        return Management.for_amqp_url(self.base_url, self.management_url)


@dataclass
class Postgres:
    server_dsn: str  # the maintenance database
    prefix: str  # DATABASE_URL's database name for this run: services add _orders, ...
    created: list[str] = field(default_factory=list)

    def dsn(self, database: str) -> str:
        parts = urlsplit(self.server_dsn)
        return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))

    @property
    def database_url(self) -> str:
        return self.dsn(self.prefix)

    async def create(self, suffix: str = "") -> str:
        name = f"{self.prefix}{suffix}"
        conn = await asyncpg.connect(self.server_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return self.dsn(name)


@pytest.fixture(scope="session")
def _rabbit_server() -> Iterator[tuple[str, str]]:
    url = os.environ.get("AMQP_URL", DEFAULT_AMQP)
    if _answers(url, 5672):
        yield url, os.environ.get("RABBITMQ_MANAGEMENT_URL", management_url(url))
        return
    if not _docker_runs():
        _missing(f"RabbitMQ does not answer at {url} and Docker is not running")
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
                _missing(f"RabbitMQ management API at {mgmt_url} refused: {exc!r}")
            await mgmt.set_permissions(vhost, user)
            yield Rabbit(base_url, with_vhost(base_url, vhost), vhost, mgmt_url)
        finally:
            await mgmt.delete_vhost(vhost)  # also when a timed-out create went through later


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE)
    if _answers(url, 5432):
        yield url
        return
    if not _docker_runs():
        _missing(f"PostgreSQL does not answer at {url} and Docker is not running")
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


async def eventually(check, *, timeout: float = 10.0, interval: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll `check` (sync or async) until it returns a truthy value; bounded, no fixed sleeps."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        await asyncio.sleep(interval)
