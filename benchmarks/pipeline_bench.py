"""The whole pipeline, every process running as `make run` starts them: payments settled per second, and
latency from Stripe confirming a payment to the order paid (order.paid on the exchange) and to the
receipt with its PDF handed to SMTP, at a fixed 100 payments/s.

t0 is when the Stripe stand-in confirmed the payment (`/_sim/.../pay` returned); its signed
checkout.session.completed webhook goes out right after, through the gateway to payments.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import httpx

from benchmarks._support import DATABASE_URL, Figure
from devmailbox.testing import running_mailbox
from messaging.broker import connect
from messaging.event import Envelope
from messaging.events.orders import OrderPaid
from messaging.topology import ORDERS, Binding, Queue, Topology

ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT_N = int(os.environ.get("BENCH_PIPELINE_N", "200"))
LATENCY_N = int(os.environ.get("BENCH_PIPELINE_LATENCY_N", "300"))
RATE = 100.0


def _run_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paybus_run", ROOT / "tools" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@asynccontextmanager
async def system(amqp_url: str, smtp_port: int) -> AsyncIterator[dict[str, str]]:
    run = _run_module()
    prefix = f"paybus_bench_{uuid.uuid4().hex[:6]}"
    names = ("GATEWAY", "ORDERS", "PAYMENTS", "NOTIFIER", "STRIPE_SIM", "MAILBOX")
    env = run.settings(
        {
            **{f"{n}_PORT": str(run.free_port()) for n in names},
            "AMQP_URL": amqp_url,
            "DATABASE_URL": DATABASE_URL.rsplit("/", 1)[0] + "/" + prefix,
            "DEV_MAILBOX": "0",
            "SMTP_PORT": str(smtp_port),
            "STRIPE_SIM_WEBHOOK_EVENTS": "checkout.session.*,charge.refunded",
        }
    )
    await run.prepare(env)
    procs = run.start(run.plan(env), env)
    try:
        late = await asyncio.to_thread(run.wait_ready, run.plan(env), 60)
        if late:
            raise RuntimeError(f"not ready: {late}")
        yield env
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
    """Arrival times of order.paid (a third party's queue on orders.events) and of receipts at SMTP."""

    def __init__(self, box: Any) -> None:
        self.paid: dict[str, float] = {}
        self.mailed: dict[str, float] = {}
        self._box = box
        box.store.subscribe(self._on_mail)

    def _on_mail(self) -> None:  # called for each message as the SMTP server stores it
        now = time.perf_counter()
        newest = self._box.store.list()[0]
        if newest.subject.startswith("Payment received"):
            for to in newest.to:
                self.mailed.setdefault(to, now)

    async def on_paid(self, msg: Envelope[OrderPaid], deps: None) -> None:
        self.paid.setdefault(str(msg.data.order_id), time.perf_counter())


async def _pay(sim: httpx.AsyncClient, session_id: str) -> float:
    response = await sim.post(f"/_sim/checkout/sessions/{session_id}/pay", data={"outcome": "succeeded"})
    response.raise_for_status()
    return time.perf_counter()


async def _wait(watch: Watch, orders: list[tuple[str, str, str]], within: float = 300) -> None:
    deadline = time.perf_counter() + within
    while not all(o in watch.paid and e in watch.mailed for o, _, e in orders):
        if time.perf_counter() > deadline:
            raise TimeoutError("pipeline did not settle every payment")
        await asyncio.sleep(0.02)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(amqp_url: str) -> list[Figure]:
    async with running_mailbox(limit=100_000) as box, system(amqp_url, box.smtp_port) as env:
        watch = Watch(box)
        queue = Queue("bench.order-paid", binds=(Binding(ORDERS, "order.paid"),), dead_letter=False)
        broker = await connect(amqp_url, name="bench:pipeline", topology=Topology((ORDERS,), (queue,), {}))
        await broker.declare()
        consumer = broker.consumer(queue, {OrderPaid: watch.on_paid}, None, prefetch=256)
        await consumer.start()
        gateway = httpx.AsyncClient(base_url=env["PUBLIC_BASE_URL"], timeout=60)
        sim = httpx.AsyncClient(base_url=env["STRIPE_API_BASE"], timeout=60)
        try:
            return await _measure(watch, gateway, sim)
        finally:
            await gateway.aclose()
            await sim.aclose()
            await consumer.stop()
            await broker.close()


async def _measure(watch: Watch, gateway: httpx.AsyncClient, sim: httpx.AsyncClient) -> list[Figure]:
    burst = await _orders(gateway, THROUGHPUT_N, "t")
    window = asyncio.Semaphore(32)

    async def paid(session_id: str) -> float:
        async with window:
            return await _pay(sim, session_id)

    start = time.perf_counter()
    await asyncio.gather(*(paid(s) for _, s, _ in burst))
    await _wait(watch, burst)
    settled = THROUGHPUT_N / (max(watch.mailed[e] for _, _, e in burst) - start)

    steady = await _orders(gateway, LATENCY_N, "l")
    t0: dict[str, float] = {}

    async def at(i: int, order_id: str, session_id: str) -> None:
        await asyncio.sleep(max(0.0, begin + i / RATE - time.perf_counter()))
        t0[order_id] = await _pay(sim, session_id)

    begin = time.perf_counter()
    await asyncio.gather(*(at(i, o, s) for i, (o, s, _) in enumerate(steady)))
    await _wait(watch, steady)
    to_paid = [watch.paid[o] - t0[o] for o, _, _ in steady]
    to_mail = [watch.mailed[e] - t0[o] for o, _, e in steady]
    return [
        Figure("pipeline_settled_per_s", settled, "payments/s", [settled]),
        Figure("pipeline_paid_latency_p50_at_100_per_s", _pct(to_paid, 0.5), "ms", []),
        Figure("pipeline_paid_latency_p99_at_100_per_s", _pct(to_paid, 0.99), "ms", []),
        Figure("pipeline_receipt_latency_p50_at_100_per_s", _pct(to_mail, 0.5), "ms", []),
        Figure("pipeline_receipt_latency_p99_at_100_per_s", _pct(to_mail, 0.99), "ms", []),
        Figure("pipeline_paid_latency_mean_at_100_per_s", statistics.mean(to_paid) * 1000, "ms", []),
    ]
