"""Chaos room: the faults, one per scenario. Each injects, lifts the fault, and returns when it ended."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from chaos.servers import PgServer, RabbitCluster, RabbitNode
from chaos.system import Supervisor

log = logging.getLogger(__name__)
NODE_DOWN_FOR = 10.0  # seconds a killed node stays down before it is started again
STORM_COPIES = 4  # extra deliveries of each Stripe event: 5 in all with the stand-in's own
STORM_SPREAD = 3.0  # seconds over which one event's copies arrive, in random order
STORM_CONCURRENCY = 16  # copies in flight at once (Stripe delivers side by side)


@dataclass
class Lab:
    """Everything a fault may reach."""

    cluster: RabbitCluster
    pg: PgServer
    supervisor: Supervisor
    env: dict[str, str]
    db_prefix: str
    notes: list[str] = field(default_factory=list)
    stream_started: float = 0.0  # wall clock of this scenario's first payment

    def note(self, text: str) -> None:
        self.notes.append(f"{time.strftime('%H:%M:%S')} {text}")
        log.info("fault: %s", text)

    async def management(self, method: str, path: str) -> Any:
        """The management API of the first node that answers (any node speaks for the cluster)."""
        error: Exception | None = None
        async with httpx.AsyncClient(auth=("guest", "guest"), timeout=15) as http:
            for node in self.cluster.nodes:
                try:
                    response = await http.request(method, f"{node.management_url}/api{path}")
                    response.raise_for_status()
                    return response.json() if response.content else None
                except httpx.HTTPError as exc:
                    error = exc
        raise RuntimeError(f"no management API answers {method} {path}: {error}")


async def replication(lab: Lab) -> str:
    """How the system's queues are spread: types, and quorum queues with a member on every node."""
    queues = [q for q in await lab.management("GET", "/queues/%2F") if not q["name"].startswith("chaos.")]
    quorum = [q for q in queues if q.get("type") == "quorum"]
    everywhere = sum(1 for q in quorum if len(q.get("members", ())) == len(lab.cluster.nodes))
    return (
        f"queues by type {dict(Counter(q.get('type') for q in queues))}; quorum queues with a member on all"
        f" {len(lab.cluster.nodes)} nodes: {everywhere} of {len(quorum)}"
    )


Fault = Callable[[Lab, "asyncio.Task[Any]"], Awaitable[float]]


async def amqp_connections_closed(lab: Lab, stream: asyncio.Task[Any]) -> float:
    connections = await lab.management("GET", "/connections")
    mine = "chaos-observer"  # ours keeps counting order.paid
    names = [c["name"] for c in connections if c.get("client_properties", {}).get("connection_name") != mine]
    for name in names:
        await lab.management("DELETE", f"/connections/{quote(name, safe='')}")
    lab.note(f"closed {len(names)} AMQP connections through the management API")
    return time.time()


async def _leader_node(lab: Lab) -> RabbitNode:
    queues = await lab.management("GET", "/queues/%2F")
    leaders = Counter(q["leader"] for q in queues if q.get("leader") and not q["name"].startswith("chaos."))
    name = leaders.most_common(1)[0][0] if leaders else lab.cluster.first.node
    lab.note(f"queue leaders per node: {dict(leaders)}")
    return lab.cluster.node(name)


async def broker_node_killed(lab: Lab, stream: asyncio.Task[Any]) -> float:
    node = await _leader_node(lab)
    await asyncio.to_thread(node.kill)
    lab.note(f"SIGKILL {node.node} (pid file {node.pid_file}); down for {NODE_DOWN_FOR:.0f}s")
    await asyncio.sleep(NODE_DOWN_FOR)
    await asyncio.to_thread(node.start)
    await asyncio.to_thread(lab.cluster.wait_clustered)
    lab.note(f"{node.node} started again and back in the cluster")
    return time.time()


async def broker_restarted(lab: Lab, stream: asyncio.Task[Any]) -> float:
    lab.note("every node: stop_app, then start_app")
    await asyncio.to_thread(lab.cluster.restart)
    lab.note("every node running again")
    return time.time()


async def db_connections_killed(lab: Lab, stream: asyncio.Task[Any]) -> float:
    total = 0
    for _ in range(3):  # again while the pools refill
        total += await lab.pg.terminate_backends(lab.db_prefix)
        await asyncio.sleep(1)
    lab.note(f"pg_terminate_backend on {total} sessions of {lab.db_prefix}*")
    return time.time()


async def db_restarted(lab: Lab, stream: asyncio.Task[Any]) -> float:
    await asyncio.to_thread(lab.pg.restart)
    lab.note("PostgreSQL restarted (fast shutdown, start)")
    return time.time()


async def worker_killed(lab: Lab, stream: asyncio.Task[Any]) -> float:
    workers = [m for m in lab.supervisor.members if m.kind.endswith("-worker")]
    for replica in sorted({m.name[-1] for m in workers}):
        for member in (m for m in workers if m.name.endswith(replica) and m.popen is not None):
            assert member.popen is not None
            lab.note(f"SIGKILL {member.name} (pid {member.popen.pid})")
            member.popen.kill()
        await asyncio.sleep(3)
    return time.time()


class _Storm:
    """Signed copies of Stripe events POSTed to the webhook, each retried until a 2xx as Stripe would."""

    def __init__(self, lab: Lab) -> None:
        from stripe_sim.settings import DEFAULT_API_KEY, LOCAL_WEBHOOK_SECRET

        self.url = lab.env["STRIPE_SIM_WEBHOOK_URL"]
        self.secret = lab.env.get("STRIPE_WEBHOOK_SECRET", LOCAL_WEBHOOK_SECRET).split(",")[0].strip()
        self.since = lab.stream_started - 1
        self.stripe = httpx.AsyncClient(base_url=lab.env["STRIPE_API_BASE"], auth=(DEFAULT_API_KEY, ""))
        self.webhook = httpx.AsyncClient(timeout=15, limits=httpx.Limits(max_connections=STORM_CONCURRENCY))
        self.seen: set[str] = set()
        self.delivered = 0
        self.failed = 0

    async def aclose(self) -> None:
        await self.stripe.aclose()
        await self.webhook.aclose()

    async def new_events(self) -> list[dict[str, Any]]:
        """Events of this stream not seen yet, newest first, page by page (the list is newest first)."""
        fresh: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = (await self.stripe.get("/v1/events", params=params)).json()
            for event in page["data"]:
                if event["id"] in self.seen or event["created"] < self.since:
                    return fresh
                self.seen.add(event["id"])
                fresh.append(event)
            if not page.get("has_more") or not page["data"]:
                return fresh
            params["starting_after"] = page["data"][-1]["id"]

    async def deliver(self, body: str, delay: float) -> None:
        from stripe_sim.webhooks import signature_header

        await asyncio.sleep(delay)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            headers = {
                "Content-Type": "application/json",
                "Stripe-Signature": signature_header(self.secret, body),
            }
            with contextlib.suppress(httpx.HTTPError):
                if (await self.webhook.post(self.url, content=body.encode(), headers=headers)).is_success:
                    self.delivered += 1
                    return
            await asyncio.sleep(1)
        self.failed += 1


async def webhook_storm(lab: Lab, stream: asyncio.Task[Any]) -> float:
    """Every Stripe event of the stream delivered 4 more times, signed, spread and reordered."""
    storm = _Storm(lab)
    copies: list[asyncio.Task[None]] = []
    try:
        while True:
            done = stream.done()
            for event in await storm.new_events():
                body = json.dumps(event, indent=2)
                copies += [
                    asyncio.create_task(storm.deliver(body, random.uniform(0, STORM_SPREAD)))
                    for _ in range(STORM_COPIES)
                ]
            if done:
                break
            await asyncio.sleep(0.5)
        await asyncio.gather(*copies)
    finally:
        await storm.aclose()
    lab.note(f"storm: {len(storm.seen)} events, {storm.delivered} extra copies delivered, {storm.failed} not")
    return time.time()


FAULTS: dict[str, Fault] = {
    "amqp-connections-closed": amqp_connections_closed,
    "broker-node-killed": broker_node_killed,
    "broker-restarted": broker_restarted,
    "db-connections-killed": db_connections_killed,
    "db-restarted": db_restarted,
    "worker-killed": worker_killed,
    "webhook-storm": webhook_storm,
}
