"""Bench plumbing: a throwaway vhost, medians, JSON lines and the closing table."""

from __future__ import annotations

import json
import os
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from messaging.management import Management

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/paybus")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    runs: list[float]

    def line(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "value": round(self.value, 3),
                "unit": self.unit,
                "runs": [round(r, 3) for r in self.runs],
            }
        )


def median_figure(name: str, runs: list[float], unit: str) -> Figure:
    """The median of the rounds, with every round's value."""
    return Figure(name, statistics.median(runs), unit, runs)


def percentile_ms(seconds: list[float], q: float) -> float:
    """The q-quantile of durations in seconds, in milliseconds (nearest rank below)."""
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@asynccontextmanager
async def scratch_vhost() -> AsyncIterator[str]:
    """An AMQP URL on a vhost of its own, deleted afterwards: the bench never touches real queues."""
    vhost = f"paybus-bench-{uuid.uuid4().hex[:6]}"
    user = urlsplit(AMQP_URL).username or "guest"
    async with Management.for_amqp_url(AMQP_URL, os.environ.get("RABBITMQ_MANAGEMENT_URL")) as mgmt:
        await mgmt.create_vhost(vhost)
        await mgmt.set_permissions(vhost, user)
        try:
            parts = urlsplit(AMQP_URL)
            yield urlunsplit((parts.scheme, parts.netloc, "/" + vhost, parts.query, ""))
        finally:
            await mgmt.delete_vhost(vhost)


def table(figures: list[Figure]) -> str:
    width = max(len(f.name) for f in figures)
    rows = [f"{'figure'.ljust(width)}  {'median':>12}  unit", "-" * (width + 26)]
    rows += [f"{f.name.ljust(width)}  {f.value:12.2f}  {f.unit}" for f in figures]
    return "\n".join(rows)
