"""Signed Stripe webhooks accepted per second through the gateway's /payment/webhook/, at concurrency 16.

Each event is distinct and real: a `checkout.session.completed` the Stripe stand-in made when one of
the bench's orders was paid on it, for that order's Checkout session, with the stand-in's own webhook
delivery switched off meanwhile so that only the bench delivers it. The bench signs each body with the
secret the system was started with (STRIPE_WEBHOOK_SECRET, shared by the stand-in and payments), as the
stand-in would, before the clock starts. Accepted means answered 2xx with payments' note
`payment.succeeded`: verified, stored with its outbox rows in one transaction, committed. The rest of
the pipeline (the relay, orders, the notifier's receipts) runs on the same cores meanwhile, as it
would in production; each round waits until every order is paid and mailed before the next.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from benchmarks._support import RUNS, Figure, median_figure, percentile_ms
from stripe_sim.webhooks import signature_header

N = int(os.environ.get("BENCH_WEBHOOK_N", "600"))  # events per round
CONCURRENCY = 16
EVENT = "checkout.session.completed"
Orders = list[tuple[str, str, str]]  # (order id, session id, e-mail)


class Watch(Protocol):
    async def quiet(self, orders: Orders) -> None: ...
    async def settled(self, orders: Orders) -> None: ...


@dataclass
class Webhooks:
    env: dict[str, str]  # the environment the system was started with
    gateway: httpx.AsyncClient
    sim: httpx.AsyncClient

    @property
    def secret(self) -> str:
        """The stand-in signs with the first of STRIPE_WEBHOOK_SECRET's values; so does the bench."""
        return self.env["STRIPE_WEBHOOK_SECRET"].split(",")[0].strip()

    async def _sim_delivery(self, url: str) -> str:
        """Point the stand-in's webhook delivery at `url` ("" = off); return the URL it had."""
        before = (await self.sim.get("/_sim/config")).json()
        response = await self.sim.post("/_sim/config", json={"webhook_url": url})
        response.raise_for_status()
        return str(before["url"] or "")

    async def completed_events(self, orders: Orders) -> list[dict[str, Any]]:
        """Pay every session on the stand-in with its delivery off; its completed events, one per session."""
        wanted = {session for _, session, _ in orders}
        url = await self._sim_delivery("")
        try:
            window = asyncio.Semaphore(32)

            async def pay(session_id: str) -> None:
                async with window:
                    r = await self.sim.post(
                        f"/_sim/checkout/sessions/{session_id}/pay", data={"outcome": "succeeded"}
                    )
                    r.raise_for_status()

            await asyncio.gather(*(pay(s) for s in wanted))
        finally:
            await self._sim_delivery(url)
        found: dict[str, dict[str, Any]] = {}
        auth = {"Authorization": f"Bearer {self.env['STRIPE_SECRET_KEY']}"}
        params: dict[str, str | int] = {"type": EVENT, "limit": 100}
        while len(found) < len(wanted):  # newest first: ours are at the top
            page = (await self.sim.get("/v1/events", params=params, headers=auth)).raise_for_status().json()
            for event in page["data"]:
                session = event["data"]["object"]["id"]
                if session in wanted:
                    found.setdefault(session, event)
            if not page["has_more"]:
                break
            params["starting_after"] = page["data"][-1]["id"]
        if len(found) < len(wanted):
            raise RuntimeError(f"the stand-in has {len(found)} of {len(wanted)} completed events")
        return list(found.values())

    async def fire(self, events: list[dict[str, Any]]) -> tuple[float, list[float], Counter[str]]:
        """Deliver every event, CONCURRENCY at a time: (seconds, latencies of accepted ones, outcomes)."""
        signed = []
        for event in events:
            body = json.dumps(event, indent=2)  # as the stand-in sends it
            signed.append((body.encode(), signature_header(self.secret, body)))
        todo = iter(signed)
        latencies: list[float] = []
        outcomes: Counter[str] = Counter()

        async def deliverer() -> None:
            for body, signature in todo:
                sent = time.perf_counter()
                r = await self.gateway.post(
                    "/payment/webhook/",
                    content=body,
                    headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                )
                took = time.perf_counter() - sent
                note = r.json().get("note") if r.is_success else None
                outcomes[f"{r.status_code} {note or ''}".strip()] += 1
                if r.is_success and note == "payment.succeeded":
                    latencies.append(took)

        start = time.perf_counter()
        await asyncio.gather(*(deliverer() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start, latencies, outcomes


async def run(
    hooks: Webhooks, make_orders: Callable[[int, str], Awaitable[Orders]], watch: Watch
) -> list[Figure]:
    accepted: list[float] = []
    p50: list[float] = []
    p99: list[float] = []
    for n in range(RUNS):
        orders = await make_orders(N, f"w{n}-")
        await watch.quiet(orders)
        events = await hooks.completed_events(orders)
        seconds, latencies, outcomes = await hooks.fire(events)
        if len(latencies) != len(events):
            print(f"webhook round {n}: not all accepted: {dict(outcomes)}", file=sys.stderr)
        accepted.append(len(latencies) / seconds)
        p50.append(percentile_ms(latencies or [0.0], 0.5))
        p99.append(percentile_ms(latencies or [0.0], 0.99))
        await watch.settled(orders)  # the pipeline behind the webhooks done before the next round
    return [
        median_figure("webhook_accepted_per_s", accepted, "events/s"),
        median_figure("webhook_p50_ms", p50, "ms"),
        median_figure("webhook_p99_ms", p99, "ms"),
    ]
