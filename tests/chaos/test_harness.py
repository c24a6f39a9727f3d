"""The chaos harness's own parts, without servers: balancer, supervisor, scoring."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from chaos.proxy import TcpBalancer
from chaos.servers import RabbitCluster, free_port
from chaos.suite import Result, table
from chaos.system import Member, Supervisor
from chaos.watch import delta

pytestmark = pytest.mark.chaos


async def _echo_server(tag: bytes) -> asyncio.Server:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(tag + data)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


async def _ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping")
    await writer.drain()
    answer = await reader.read(1024)
    writer.close()
    return answer


async def test_balancer_skips_a_node_that_refuses_and_spreads_over_the_others() -> None:
    up_a, up_b = await _echo_server(b"a:"), await _echo_server(b"b:")
    down = free_port()  # nothing listens there: a killed node
    ports = [down, up_a.sockets[0].getsockname()[1], up_b.sockets[0].getsockname()[1]]
    balancer = TcpBalancer(ports, free_port())
    await balancer.start()
    try:
        answers = {await _ask(balancer.port) for _ in range(4)}
        assert answers == {b"a:ping", b"b:ping"}
    finally:
        await balancer.close()
        up_a.close()
        up_b.close()


async def test_balancer_passes_a_closed_upstream_on_to_the_client() -> None:
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()  # the broker closing a connection (management API, node shutdown)

    server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
    balancer = TcpBalancer([server.sockets[0].getsockname()[1]], free_port())
    await balancer.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", balancer.port)
        assert await asyncio.wait_for(reader.read(1024), 10) == b""  # EOF, not a hang
        writer.close()
    finally:
        await balancer.close()
        server.close()


async def test_supervisor_restarts_a_killed_process(tmp_path: Path) -> None:
    argv = (sys.executable, "-c", "import time; time.sleep(120)")
    member = Member("sleeper-worker-1", argv, {}, None, None, tmp_path / "sleeper.log")
    supervisor = Supervisor([member])
    supervisor.start_all()
    running = asyncio.create_task(supervisor.run())
    try:
        assert member.popen is not None
        first = member.popen.pid
        member.popen.kill()
        deadline = time.monotonic() + 30
        while member.popen is None or member.popen.pid == first or member.popen.poll() is not None:
            assert time.monotonic() < deadline, supervisor.events
            await asyncio.sleep(0.1)
        assert member.restarts == 1
        assert "exited with -9" in supervisor.events[0]
    finally:
        await asyncio.to_thread(supervisor.stop, 5)
        running.cancel()


def test_a_scenario_passes_only_with_payments_nothing_lost_or_doubled_and_recovery_in_time() -> None:
    good = Result("x", payments=10, lost=0, duplicate_effects=0, recovered_s=3.0)
    assert good.ok
    assert not Result("x", payments=0, lost=0, duplicate_effects=0, recovered_s=0.0).ok
    assert not Result("x", payments=10, lost=1, duplicate_effects=0, recovered_s=None).ok
    assert not Result("x", payments=10, lost=0, duplicate_effects=1, recovered_s=1.0).ok
    assert not Result("x", payments=10, lost=0, duplicate_effects=0, recovered_s=61.0).ok
    rows = table([good, Result("y", payments=5, lost=1, duplicate_effects=0, recovered_s=None)])
    assert "never" in rows
    assert rows.splitlines()[-1].endswith("NO")


def test_counter_delta_counts_a_restarted_process_from_zero() -> None:
    before = {"a_total": 10.0, "b_total": 5.0}
    after = {"a_total": 12.0, "b_total": 2.0, "c_total": 1.0}
    assert delta(before, after) == {"a_total": 2.0, "b_total": 2.0, "c_total": 1.0}


def test_node_names_differ_between_clusters(tmp_path: Path) -> None:
    one, two = RabbitCluster(3, tmp_path / "one"), RabbitCluster(3, tmp_path / "two")
    names = [n.node for n in one.nodes + two.nodes]
    assert len(set(names)) == 6
    assert all(n.endswith("@localhost") for n in names)
    assert 5672 not in {n.amqp_port for n in one.nodes + two.nodes}
