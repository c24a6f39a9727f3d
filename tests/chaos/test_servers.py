"""chaos.servers: our own RabbitMQ cluster and PostgreSQL start, replicate, die and come back."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest

from chaos.servers import PgServer, RabbitCluster

pytestmark = pytest.mark.chaos
SESSIONS = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"


async def _members(cluster: RabbitCluster, queue: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=cluster.management_url, auth=("guest", "guest")) as http:
        deadline = time.monotonic() + 60
        while True:  # the management API reports a new queue once its stats arrive
            response = await http.get(f"/api/queues/%2F/{queue}")
            info: dict[str, Any] = response.json() if response.status_code == 200 else {}
            if info.get("leader"):
                return info
            assert time.monotonic() < deadline, f"{queue} never showed in the management API"
            await asyncio.sleep(0.3)


async def _declare_quorum(url: str, queue: str) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True, arguments={"x-queue-type": "quorum"})


async def _publish(url: str, queue: str, body: bytes) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await channel.default_exchange.publish(message, routing_key=queue)


async def _get(url: str, queue: str, timeout: float = 60) -> bytes:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        q = await channel.get_queue(queue, ensure=False)
        deadline = time.monotonic() + timeout
        while (message := await q.get(fail=False, no_ack=True)) is None:
            assert time.monotonic() < deadline, f"nothing in {queue}"
            await asyncio.sleep(0.2)
        return message.body


def test_cluster_nodes_all_run_and_see_each_other(cluster: RabbitCluster) -> None:
    assert cluster.running_nodes() == sorted(n.node for n in cluster.nodes)
    assert len({n.amqp_port for n in cluster.nodes} | {5672}) == 4  # never the shared broker's port


async def test_quorum_queue_has_a_member_on_every_node(cluster: RabbitCluster) -> None:
    queue = f"chaos-test-{uuid.uuid4().hex[:8]}"
    await _declare_quorum(cluster.amqp_url(), queue)
    info = await _members(cluster, queue)
    assert sorted(info["members"]) == sorted(n.node for n in cluster.nodes)


async def test_killed_leader_node_loses_no_confirmed_message_and_rejoins(cluster: RabbitCluster) -> None:
    queue = f"chaos-test-{uuid.uuid4().hex[:8]}"
    await _declare_quorum(cluster.amqp_url(), queue)
    leader = cluster.node(str((await _members(cluster, queue))["leader"]))
    await _publish(leader.amqp_url(), queue, b"before the crash")
    leader.kill()
    assert not leader.is_running()
    survivor = next(n for n in cluster.nodes if n is not leader)
    assert await _get(survivor.amqp_url(), queue) == b"before the crash"
    await asyncio.to_thread(leader.start)
    await asyncio.to_thread(cluster.wait_clustered)
    await _publish(leader.amqp_url(), queue, b"after the restart")
    assert await _get(survivor.amqp_url(), queue) == b"after the restart"


async def test_broker_restart_keeps_persistent_messages(cluster: RabbitCluster) -> None:
    queue = f"chaos-test-{uuid.uuid4().hex[:8]}"
    await _declare_quorum(cluster.amqp_url(), queue)
    await _publish(cluster.amqp_url(), queue, b"survives stop_app")
    await asyncio.to_thread(cluster.restart)
    assert await _get(cluster.nodes[-1].amqp_url(), queue) == b"survives stop_app"


async def test_terminated_backends_end_only_sessions_on_matching_databases(pg: PgServer) -> None:
    name = f"chaos_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg.dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        victim = await asyncpg.connect(pg.dsn(name))
        assert await pg.terminate_backends(name) == 1
        deadline = time.monotonic() + 30
        while await admin.fetchval(SESSIONS, name):
            assert time.monotonic() < deadline, "the terminated session is still there"
            await asyncio.sleep(0.1)
        victim.terminate()
        assert await admin.fetchval("SELECT 1") == 1  # the caller's own and other databases' sessions stay
    finally:
        await admin.close()


async def test_restarted_and_killed_server_keeps_committed_rows(pg: PgServer) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(pg.dsn())
    await conn.execute(f"CREATE TABLE {table} (v int); INSERT INTO {table} VALUES (1)")
    await conn.close()
    await asyncio.to_thread(pg.restart)
    pid = pg.pid
    await asyncio.to_thread(pg.kill)
    assert not pg.is_running()
    await asyncio.to_thread(pg.start)
    assert pg.pid != pid
    conn = await asyncpg.connect(pg.dsn())
    try:
        assert await conn.fetchval(f"SELECT sum(v) FROM {table}") == 1
    finally:
        await conn.close()
