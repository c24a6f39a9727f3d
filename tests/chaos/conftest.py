"""Chaos fixtures: a 3-node RabbitMQ cluster and a PostgreSQL of our own (chaos.servers), not the shared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos.servers import (
    PgServer,
    RabbitCluster,
    pg_server,
    postgres_available,
    rabbit_available,
    rabbit_cluster,
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RabbitCluster]:
    """Three clustered nodes on free ports; tests that break a node put it back before they end."""
    if reason := rabbit_available():
        pytest.skip(f"cannot run RabbitMQ nodes of our own: {reason}")
    with rabbit_cluster(3) as started:
        yield started


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    if reason := postgres_available():
        pytest.skip(f"cannot run a PostgreSQL of our own: {reason}")
    with pg_server() as started:
        yield started
