"""The servers a test run uses: RabbitMQ (a vhost of its own) and PostgreSQL (databases of its own).

Servers come from AMQP_URL / DATABASE_URL when they answer, else from testcontainers when Docker
runs, else the tests that need them are skipped with the reason. With PAYBUS_REQUIRE_SERVICES=1
(set by .ci/run) a missing server fails the run instead: a green run without a broker is not green.
The fixtures that build these live in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from messaging.management import Management

REQUIRE = os.environ.get("PAYBUS_REQUIRE_SERVICES") == "1"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/paybus"
RUN_ID = uuid.uuid4().hex[:8]


def answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def docker_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def unavailable(message: str) -> None:
    """Skip the test for want of `message`'s tool or server; fail instead when CI requires them all."""
    if REQUIRE:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def missing(what: str) -> None:
    unavailable(f"{what}; start it, or run Docker so testcontainers can")


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
