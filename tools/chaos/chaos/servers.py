"""Chaos room: servers of our own for fault tests: a RabbitMQ cluster and a PostgreSQL, on free ports.

Never the machine's shared RabbitMQ (5672) or PostgreSQL (5432): each server lives under a temporary
directory with its own ports, and is stopped or killed by node name or the pid in its pid file.

    with rabbit_cluster(3) as cluster, pg_server() as pg:
        url = cluster.amqp_url(); dsn = pg.dsn("mydb")
        cluster.nodes[1].kill(); cluster.nodes[1].start()
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chaos._postgres import PgServer, pg_bin, postgres_available
from chaos._proc import ServerError, free_port
from chaos._rabbit import RabbitCluster, RabbitNode, rabbit_available

__all__ = [
    "PgServer",
    "RabbitCluster",
    "RabbitNode",
    "ServerError",
    "free_port",
    "pg_bin",
    "pg_server",
    "postgres_available",
    "rabbit_available",
    "rabbit_cluster",
    "temporary_directory",
]


@contextmanager
def temporary_directory(prefix: str) -> Iterator[Path]:
    """A directory the rabbitmq and postgres users can reach (mkdtemp's 0700 would lock them out)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def rabbit_cluster(size: int = 3, workdir: Path | None = None) -> Iterator[RabbitCluster]:
    """A started cluster of `size` nodes; stopped and removed on exit, whatever happened to its nodes."""
    with temporary_directory("chaos-rabbit-") as tmp:
        cluster = RabbitCluster(size, workdir or tmp / "rabbit")
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


@contextmanager
def pg_server(workdir: Path | None = None) -> Iterator[PgServer]:
    """A started PostgreSQL; stopped and removed on exit."""
    with temporary_directory("chaos-pg-") as tmp:
        server = PgServer(workdir or tmp / "pg")
        try:
            server.start()
            yield server
        finally:
            server.stop()
