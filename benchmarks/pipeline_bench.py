"""The whole pipeline, every process running as `make run` starts them: payments settled per second, and
latency from Stripe confirming a payment to the order paid (order.paid on the exchange) and to the
receipt with its PDF handed to SMTP, at a fixed 100 payments/s.

t0 is when the Stripe stand-in confirmed the payment (`/_sim/.../pay` returned); its signed
checkout.session.completed webhook goes out right after, through the gateway to payments.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

import asyncpg
import httpx
import psutil
from aiosmtpd.smtp import SMTP

from benchmarks._support import DATABASE_URL, RUNS, Figure
from chaos.system import load_run
from messaging.broker import connect
from messaging.event import Envelope
from messaging.events.orders import OrderPaid
from messaging.topology import ORDERS, Binding, Queue, Topology

_HEADERS = BytesHeaderParser(policy=compat32)
THROUGHPUT_N = int(os.environ.get("BENCH_PIPELINE_N", "500"))  # payments per throughput round
LATENCY_N = int(os.environ.get("BENCH_PIPELINE_LATENCY_N", "300"))  # payments per latency rate
RATES = (100, 20)  # the fixed rate, and a light load that shows the pipeline's own latency


class CpuMeter:
    """CPU seconds (user + system) spent by each part of the system between two readings.

    Parts: every process of the plan by name, this bench process (load generator, the SMTP server
    receiving the mail, the order.paid watcher), RabbitMQ (beam.smp) and PostgreSQL (all its
    processes, including the backends serving each pool).
    """

    def __init__(self, procs: dict[str, int]) -> None:
        self._named = {name: psutil.Process(pid) for name, pid in procs.items()}
        self._named["bench (load, SMTP server, watcher)"] = psutil.Process()
        self._start: dict[str, float] = {}
        self._pg_start: dict[int, float] = {}

    @staticmethod
    def _cpu(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return 0.0
        return float(t.user + t.system)

    def _servers(self) -> tuple[float, dict[int, float]]:
        beam, pg = 0.0, {}
        for p in psutil.process_iter(["name"]):
            name = p.info["name"] or ""
            if name.startswith("beam"):
                beam += self._cpu(p)
            elif name.startswith("postgres"):
                pg[p.pid] = self._cpu(p)
        return beam, pg

    def start(self) -> None:
        self._start = {k: self._cpu(p) for k, p in self._named.items()}
        self._start["RabbitMQ"], self._pg_start = self._servers()

    def stop(self) -> dict[str, float]:
        spent = {k: self._cpu(p) - self._start[k] for k, p in self._named.items()}
        beam, pg = self._servers()
        spent["RabbitMQ"] = beam - self._start["RabbitMQ"]
        spent["PostgreSQL"] = sum(v - self._pg_start.get(pid, 0.0) for pid, v in pg.items())
        return spent


WORKER_PORTS = ("ORDERS_WORKER", "PAYMENTS_WORKER", "NOTIFIER_WORKER")  # health ports: free ones, too


@asynccontextmanager
async def system(amqp_url: str, smtp_port: int) -> AsyncIterator[tuple[dict[str, str], dict[str, int]]]:
    run = load_run()
    prefix = f"paybus_bench_{uuid.uuid4().hex[:6]}"
    names = ("GATEWAY", "ORDERS", "PAYMENTS", "NOTIFIER", "STRIPE_SIM", "MAILBOX", *WORKER_PORTS)
    env = run.settings(
        {
            **{f"{n}_PORT": str(run.free_port()) for n in names},
            "AMQP_URL": amqp_url,
            "DATABASE_URL": DATABASE_URL.rsplit("/", 1)[0] + "/" + prefix,
            "DEV_MAILBOX": "0",
            "SMTP_PORT": str(smtp_port),
            "STRIPE_SIM_WEBHOOK_EVENTS": "checkout.session.*,charge.refunded",
            "ORDER_RATE_LIMIT": "1000000",  # one driver is every customer: no per-client limit
        }
    )
    await run.prepare(env)
    procs = run.start(run.plan(env), env)
    try:
        late = await asyncio.to_thread(run.wait_ready, run.plan(env), 60)
        if late:
            raise RuntimeError(f"not ready: {late}")
        yield env, {p.name: child.pid for p, child in zip(run.plan(env), procs, strict=True)}
    finally:
        await asyncio.to_thread(run.stop, procs)
        admin = await asyncpg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
        for row in await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", prefix + "%"):
            await admin.execute(f'DROP DATABASE "{row["datname"]}" WITH (FORCE)')
        await admin.close()


async def _orders(gateway: httpx.AsyncClient, n: int, tag: str) -> list[tuple[str, str, str]]:
    """(order id, session id, e-mail) for n new orders, each with an open Checkout session."""
    product = (await gateway.get("/api/products")).json()[0]["id"]
    window = asyncio.Semaphore(16)

    async def one(i: int) -> tuple[str, str, str]:
        email = f"{tag}{i}@bench.example"
        async with window:
            order = (
                await gateway.post(
                    "/api/orders", json={"email": email, "items": [{"product_id": product, "quantity": 1}]}
                )
            ).json()
            response = await gateway.post(f"/api/orders/{order['id']}/checkout")
        if response.status_code != 201:
            raise RuntimeError(f"checkout answered {response.status_code}: {response.text[:300]}")
        return order["id"], response.json()["session_id"], email

    return list(await asyncio.gather(*(one(i) for i in range(n))))


class Watch:
    """Arrival times of order.paid (a third party's queue on orders.events) and of mail at SMTP.

    Also the SMTP server the notifier sends to: it reads only the headers it needs, as a real relay
    would hand the message on unparsed; the dev mailbox parses every MIME part for its web page,
    which is not a cost of paybus.
    """

    def __init__(self) -> None:
        self.paid: dict[str, float] = {}
        self.mailed: dict[str, float] = {}
        self.confirmed: set[str] = set()
        self._server: asyncio.Server | None = None

    async def start_smtp(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="bench-sink", loop=loop), "127.0.0.1", 0
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop_smtp(self) -> None:
        if self._server is not None:
            self._server.close()

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        now = time.perf_counter()
        subject = _HEADERS.parsebytes(envelope.original_content or b"").get("Subject", "")
        if subject.startswith("Payment received"):
            for to in envelope.rcpt_tos:
                self.mailed.setdefault(to, now)
        elif subject.startswith("We received your order"):
            self.confirmed.update(envelope.rcpt_tos)
        return "250 OK"

    async def on_paid(self, msg: Envelope[OrderPaid], deps: None) -> None:
        self.paid.setdefault(str(msg.data.order_id), time.perf_counter())

    async def quiet(self, orders: list[tuple[str, str, str]]) -> None:
        """Until every order's confirmation e-mail is out, so that work is not counted as payments'."""
        await _until(lambda: all(e in self.confirmed for _, _, e in orders), "order confirmations")

    async def settled(self, orders: list[tuple[str, str, str]]) -> None:
        """Until every order is paid and its receipt is at SMTP."""
        await _until(lambda: all(o in self.paid and e in self.mailed for o, _, e in orders), "payments")


async def _pay(sim: httpx.AsyncClient, session_id: str) -> float:
    response = await sim.post(f"/_sim/checkout/sessions/{session_id}/pay", data={"outcome": "succeeded"})
    response.raise_for_status()
    return time.perf_counter()


async def _until(done: Callable[[], bool], what: str, within: float = 300) -> None:
    deadline = time.perf_counter() + within
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not all done within {within}s")
        await asyncio.sleep(0.02)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(amqp_url: str) -> list[Figure]:
    watch = Watch()
    smtp_port = await watch.start_smtp()
    async with system(amqp_url, smtp_port) as (env, pids):
        queue = Queue("bench.order-paid", binds=(Binding(ORDERS, "order.paid"),), dead_letter=False)
        broker = await connect(amqp_url, name="bench:pipeline", topology=Topology((ORDERS,), (queue,), {}))
        await broker.declare()
        consumer = broker.consumer(queue, {OrderPaid: watch.on_paid}, None, prefetch=256)
        await consumer.start()
        # enough kept-alive connections for the window; idle ones dropped before the servers (30 s+) do
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=10)
        gateway = httpx.AsyncClient(base_url=env["PUBLIC_BASE_URL"], timeout=60, limits=limits)
        sim = httpx.AsyncClient(base_url=env["STRIPE_API_BASE"], timeout=60, limits=limits)
        try:
            return await _measure(watch, gateway, sim, CpuMeter(pids))
        finally:
            await gateway.aclose()
            await sim.aclose()
            await consumer.stop()
            await broker.close()
            await watch.stop_smtp()


async def _measure(
    watch: Watch, gateway: httpx.AsyncClient, sim: httpx.AsyncClient, cpu: CpuMeter
) -> list[Figure]:
    rounds: list[float] = []
    spent: dict[str, float] = {}
    for n in range(RUNS):
        burst = await _orders(gateway, THROUGHPUT_N, f"t{n}-")
        await watch.quiet(burst)
        window = asyncio.Semaphore(32)

        async def paid(session_id: str, window: asyncio.Semaphore = window) -> float:
            async with window:
                return await _pay(sim, session_id)

        cpu.start()
        start = time.perf_counter()
        await asyncio.gather(*(paid(s) for _, s, _ in burst))
        await watch.settled(burst)
        rounds.append(THROUGHPUT_N / (max(watch.mailed[e] for _, _, e in burst) - start))
        for part, seconds in cpu.stop().items():
            spent[part] = spent.get(part, 0.0) + seconds
    payments = THROUGHPUT_N * RUNS
    figures = [
        Figure("pipeline_settled_per_s", statistics.median(rounds), "payments/s", rounds),
        Figure("pipeline_cpu_ms_per_payment_total", sum(spent.values()) * 1000 / payments, "ms", []),
    ]
    for part, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        figures.append(Figure(f"pipeline_cpu_ms_per_payment[{part}]", seconds * 1000 / payments, "ms", []))
    for rate in RATES:
        figures += await _latency(watch, gateway, sim, rate)
    return figures


async def _latency(
    watch: Watch, gateway: httpx.AsyncClient, sim: httpx.AsyncClient, rate: int
) -> list[Figure]:
    """Payments confirmed at a fixed rate; latency from each confirmation to order.paid and to the receipt."""
    steady = await _orders(gateway, LATENCY_N, f"l{rate}-")
    await watch.quiet(steady)
    t0: dict[str, float] = {}

    async def at(i: int, order_id: str, session_id: str) -> None:
        await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
        t0[order_id] = await _pay(sim, session_id)

    begin = time.perf_counter()
    await asyncio.gather(*(at(i, o, s) for i, (o, s, _) in enumerate(steady)))
    await watch.settled(steady)
    to_paid = [watch.paid[o] - t0[o] for o, _, _ in steady]
    to_mail = [watch.mailed[e] - t0[o] for o, _, e in steady]
    at_rate = f"at_{rate}_per_s"
    return [
        Figure(f"pipeline_paid_latency_p50_{at_rate}", _pct(to_paid, 0.5), "ms", []),
        Figure(f"pipeline_paid_latency_p99_{at_rate}", _pct(to_paid, 0.99), "ms", []),
        Figure(f"pipeline_receipt_latency_p50_{at_rate}", _pct(to_mail, 0.5), "ms", []),
        Figure(f"pipeline_receipt_latency_p99_{at_rate}", _pct(to_mail, 0.99), "ms", []),
    ]
