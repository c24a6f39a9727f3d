"""The whole pipeline, every process running as `make run` starts them: payments settled per second with
what each cost (CPU by process, PostgreSQL transactions, broker deliveries), latency from Stripe
confirming a payment to the order paid (order.paid on the exchange) and to the receipt with its PDF
handed to SMTP at fixed rates, and signed webhooks accepted per second (webhook_bench).

t0 is when the Stripe stand-in confirmed the payment (`/_sim/.../pay` returned); its signed
checkout.session.completed webhook goes out right after, through the gateway to payments.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from aiosmtpd.smtp import SMTP

from benchmarks import webhook_bench
from benchmarks._meter import ELSEWHERE, IDLE_RATE, POSTGRES_REST, CpuMeter, Traffic, idle_rate
from benchmarks._profile import Profiler
from benchmarks._support import DATABASE_URL, RUNS, Figure, median_figure, percentile_ms
from chaos.system import load_run
from messaging.broker import connect
from messaging.event import Envelope
from messaging.events.orders import OrderPaid
from messaging.topology import ORDERS, Binding, Queue, Topology

_HEADERS = BytesHeaderParser(policy=compat32)
THROUGHPUT_N = int(os.environ.get("BENCH_PIPELINE_N", "500"))  # payments per throughput round
LATENCY_N = int(os.environ.get("BENCH_PIPELINE_LATENCY_N", "200"))  # payments per latency round
RATES = (100, 20)  # the fixed rate, and a light load that shows the pipeline's own latency
PROFILE = os.environ.get("BENCH_PROFILE", "")  # a folder: py-spy every process in the throughput rounds
WATCH_QUEUE = "bench.order-paid"


WORKER_PORTS = ("ORDERS_WORKER", "PAYMENTS_WORKER", "NOTIFIER_WORKER")  # health ports: free ones, too


@dataclass(frozen=True)
class System:
    env: dict[str, str]  # what every process was started with
    pids: dict[str, int]  # plan name -> pid
    databases: tuple[str, ...]  # each service's PostgreSQL database


@asynccontextmanager
async def system(amqp_url: str, smtp_port: int) -> AsyncIterator[System]:
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
            # one secret for the stand-in (signs), payments (verifies) and webhook_bench (signs too)
            "STRIPE_WEBHOOK_SECRET": "whsec_bench_" + secrets.token_hex(16),
            "STRIPE_SECRET_KEY": "sk_test_paybus_bench",
        }
    )
    await run.prepare(env)
    procs = run.start(run.plan(env), env)
    try:
        late = await asyncio.to_thread(run.wait_ready, run.plan(env), 60)
        if late:
            raise RuntimeError(f"not ready: {late}")
        pids = {p.name: child.pid for p, child in zip(run.plan(env), procs, strict=True)}
        databases = tuple(f"{prefix}_{s}" for s in run.SERVICES_WITH_DATABASES)
        yield System(env, pids, databases)
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
            placed = await gateway.post(
                "/api/orders", json={"email": email, "items": [{"product_id": product, "quantity": 1}]}
            )
            if placed.status_code != 201:
                raise RuntimeError(f"placing an order answered {placed.status_code}: {placed.text[:300]}")
            order = placed.json()
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


async def run(amqp_url: str) -> list[Figure]:
    watch = Watch()
    smtp_port = await watch.start_smtp()
    async with system(amqp_url, smtp_port) as sut:
        queue = Queue(WATCH_QUEUE, binds=(Binding(ORDERS, "order.paid"),), dead_letter=False)
        broker = await connect(
            amqp_url, name="bench:pipeline", topology=Topology((ORDERS,), (queue,), {OrderPaid: (ORDERS,)})
        )
        await broker.declare()
        consumer = broker.consumer(queue, {OrderPaid: watch.on_paid}, None, prefetch=256)
        await consumer.start()
        # enough kept-alive connections for the window; idle ones dropped before the servers (30 s+) do
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=10)
        gateway = httpx.AsyncClient(base_url=sut.env["PUBLIC_BASE_URL"], timeout=60, limits=limits)
        sim = httpx.AsyncClient(base_url=sut.env["STRIPE_API_BASE"], timeout=60, limits=limits)
        vhost = urlsplit(amqp_url).path.lstrip("/") or "/"
        traffic = Traffic(DATABASE_URL, sut.databases, amqp_url, vhost, ignore_queues=(WATCH_QUEUE,))
        await traffic.read()  # its connection, before the system's pools fill up
        try:
            figures = await _throughput(watch, gateway, sim, CpuMeter(sut.pids, sut.databases), traffic, sut)
            for rate in RATES:
                figures += await _latency(watch, gateway, sim, rate)
            hooks = webhook_bench.Webhooks(sut.env, gateway, sim)
            figures += await webhook_bench.run(hooks, lambda n, tag: _orders(gateway, n, tag), watch)
            return figures
        finally:
            await traffic.close()
            await gateway.aclose()
            await sim.aclose()
            await consumer.stop()
            await broker.close()
            await watch.stop_smtp()


async def _throughput(
    watch: Watch,
    gateway: httpx.AsyncClient,
    sim: httpx.AsyncClient,
    cpu: CpuMeter,
    traffic: Traffic,
    sut: System,
) -> list[Figure]:
    """Rounds of THROUGHPUT_N payments at once: settled per second, and what each payment cost."""
    settled: list[float] = []
    rounds: list[dict[str, float]] = []
    load: list[float] = []
    profiler = Profiler(Path(PROFILE), sut.pids) if PROFILE else None
    for n in range(RUNS):
        burst = await _orders(gateway, THROUGHPUT_N, f"t{n}-")
        await watch.quiet(burst)
        # idle: the order confirmations' last steps done, the broker's and PostgreSQL's counters caught up
        broker_idle = await idle_rate(cpu, Traffic.LAG)
        counted = await traffic.read()
        window = asyncio.Semaphore(32)

        async def paid(session_id: str, window: asyncio.Semaphore = window) -> float:
            async with window:
                return await _pay(sim, session_id)

        if profiler is not None:
            await profiler.start()
        try:
            before = cpu.read()
            start = time.perf_counter()
            await asyncio.gather(*(paid(s) for _, s, _ in burst))
            await watch.settled(burst)
            after = cpu.read()
        finally:
            if profiler is not None:
                await profiler.stop()
        load.append(os.getloadavg()[0])
        settled.append(THROUGHPUT_N / (max(watch.mailed[e] for _, _, e in burst) - start))
        spent = CpuMeter.spent(before, after)
        spent[IDLE_RATE] = broker_idle * (after.at - before.at)
        await asyncio.sleep(Traffic.LAG)
        spent |= Traffic.delta(counted, await traffic.read())
        rounds.append({part: amount / THROUGHPUT_N for part, amount in spent.items()})
    if profiler is not None:
        profiler.summarise()
    return _cost_figures(settled, rounds, load, cpu.paybus)


COUNTS = {  # Traffic's counters, per payment: figure name, unit
    "xacts": ("pipeline_pg_transactions_per_payment", "transactions"),
    "delivered": ("pipeline_broker_deliveries_per_payment", "deliveries"),
    "enqueued": ("pipeline_broker_enqueued_per_payment", "messages"),
}
NOT_OURS = (ELSEWHERE, IDLE_RATE, POSTGRES_REST)  # context, not a process of the run


def _cost_figures(
    settled: list[float], rounds: list[dict[str, float]], load: list[float], paybus: tuple[str, ...]
) -> list[Figure]:
    """`rounds`: per round, CPU seconds by part and Traffic's counts, each divided by the payments."""

    def summed(keys: Iterable[str], scale: float = 1.0) -> list[float]:
        """Per round, the sum of these parts or counters."""
        return [scale * sum(r.get(k, 0.0) for k in keys) for r in rounds]

    parts = sorted({k for r in rounds for k in r if "[" not in k})
    figures = [
        median_figure("pipeline_settled_per_s", settled, "payments/s"),
        median_figure("pipeline_cpu_ms_per_payment_paybus", summed(paybus, 1000), "ms CPU"),
        median_figure(
            "pipeline_cpu_ms_per_payment_all_processes",
            summed([p for p in parts if p not in NOT_OURS], 1000),
            "ms CPU",
        ),
    ]
    by_part = {p: summed([p], 1000) for p in parts}
    for part, values in sorted(by_part.items(), key=lambda kv: -statistics.median(kv[1])):
        figures.append(median_figure(f"pipeline_cpu_ms_per_payment[{part}]", values, "ms CPU"))
    for kind, (name, unit) in COUNTS.items():
        keys = sorted({k for r in rounds for k in r if k.startswith(kind + "[")})
        figures.append(median_figure(name, summed(keys), unit))
        for key in keys:
            if any(values := summed([key])):
                figures.append(median_figure(name + key.removeprefix(kind), values, unit))
    figures.append(median_figure("machine_load_average_1m", load, "runnable tasks, 2 cores"))
    return figures


async def _latency(
    watch: Watch, gateway: httpx.AsyncClient, sim: httpx.AsyncClient, rate: int
) -> list[Figure]:
    """Rounds of payments confirmed at a fixed rate; latency from each confirmation to order.paid and to
    the receipt at SMTP."""
    values: dict[str, list[float]] = {}
    at_rate = f"at_{rate}_per_s"
    for n in range(RUNS):
        steady = await _orders(gateway, LATENCY_N, f"l{rate}-{n}-")
        await watch.quiet(steady)
        t0: dict[str, float] = {}
        begin = time.perf_counter()

        async def at(
            i: int, order_id: str, session_id: str, begin: float = begin, t0: dict[str, float] = t0
        ) -> None:
            await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
            t0[order_id] = await _pay(sim, session_id)

        await asyncio.gather(*(at(i, o, s) for i, (o, s, _) in enumerate(steady)))
        await watch.settled(steady)
        to_paid = [watch.paid[o] - t0[o] for o, _, _ in steady]
        to_mail = [watch.mailed[e] - t0[o] for o, _, e in steady]
        for name, value in (
            (f"pipeline_paid_latency_p50_{at_rate}", percentile_ms(to_paid, 0.5)),
            (f"pipeline_paid_latency_p99_{at_rate}", percentile_ms(to_paid, 0.99)),
            (f"pipeline_receipt_latency_p50_{at_rate}", percentile_ms(to_mail, 0.5)),
            (f"pipeline_receipt_latency_p99_{at_rate}", percentile_ms(to_mail, 0.99)),
        ):
            values.setdefault(name, []).append(value)
    return [median_figure(name, v, "ms") for name, v in values.items()]
