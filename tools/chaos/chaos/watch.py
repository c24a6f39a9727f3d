"""Chaos room: what an operator sees during a fault: each process's /readyz over time and metric deltas."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

from chaos.system import Member

PERIOD = 0.5  # seconds between two /readyz polls of every process
WATCHED = (  # counters whose change during a scenario tells the story (summed over replicas)
    "paybus_task_restarts_total",
    "payments_webhook_events_total",
    "payments_webhook_rejected_total",
    "notifier_emails_total",
)


@dataclass
class Unready:
    seconds: float = 0.0
    checks: set[str] = field(default_factory=set)  # the checks /readyz named as failed
    unreachable: bool = False  # /readyz did not answer at all (process down or restarting)


class ReadinessWatch:
    """Polls every process's /readyz; sums, per process, how long it was not ready and why."""

    def __init__(self, members: list[Member]) -> None:
        self.members = [m for m in members if m.ready_url]
        self.unready: dict[str, Unready] = defaultdict(Unready)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Unready]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return dict(self.unready)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=3) as http:
            while True:
                started = time.monotonic()
                await asyncio.gather(*(self._poll(http, m) for m in self.members))
                await asyncio.sleep(max(0.0, PERIOD - (time.monotonic() - started)))

    async def _poll(self, http: httpx.AsyncClient, member: Member) -> None:
        assert member.ready_url is not None
        try:
            response = await http.get(member.ready_url)
        except httpx.HTTPError:
            entry = self.unready[member.name]
            entry.seconds += PERIOD
            entry.unreachable = True
            return
        if response.status_code != 200:
            entry = self.unready[member.name]
            entry.seconds += PERIOD
            with contextlib.suppress(ValueError, AttributeError):
                checks = response.json().get("checks", {})
                entry.checks |= {name for name, outcome in checks.items() if outcome != "ok"}


def describe(unready: dict[str, Unready]) -> dict[str, str]:
    """{process: "4.5 s not ready: broker, consumers"} for the report."""
    out = {}
    for name, entry in sorted(unready.items()):
        why = sorted(entry.checks) + (["no answer"] if entry.unreachable else [])
        out[name] = f"{entry.seconds:.1f} s not ready: {', '.join(why) or 'status only'}"
    return out


async def counters(members: list[Member]) -> dict[str, float]:
    """The watched counters of every process, summed over replicas (by metric name and labels)."""
    totals: dict[str, float] = defaultdict(float)
    async with httpx.AsyncClient(timeout=5) as http:
        for member in members:
            if not member.ready_url or not member.ready_url.endswith("/readyz"):
                continue
            try:
                text = (await http.get(member.ready_url.removesuffix("/readyz") + "/metrics")).text
            except httpx.HTTPError:
                continue
            for line in text.splitlines():
                if line.startswith(WATCHED):
                    key, _, value = line.rpartition(" ")
                    with contextlib.suppress(ValueError):
                        totals[key] += float(value)
    return dict(totals)


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What changed; a counter that went down (its process restarted) counts from zero."""
    out = {}
    for key, value in after.items():
        change = value - before.get(key, 0.0)
        change = value if change < 0 else change
        if change:
            out[key] = change
    return out
