"""What one pipeline round cost: CPU by process, PostgreSQL transactions, broker deliveries, machine load.

Which processes count as paybus's (`pipeline_cpu_ms_per_payment_paybus`): every process of the plan but
the stand-ins (the Stripe stand-in, the dev mailbox), RabbitMQ's broker (`beam.smp`), and the PostgreSQL
backends serving the bench's own databases (named in their process title). Not counted: the bench
process (load, SMTP server, order.paid watcher), the Stripe stand-in, and the rest of the PostgreSQL
server (its background processes and the backends of other databases: the server is shared). RabbitMQ
is one process for every vhost: its figure is the whole broker's CPU, so other users of a shared broker
inflate it; `RabbitMQ, idle rate` (its CPU per second while the bench's vhost is idle, just before the
round) says by how much.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import asyncpg
import psutil

from messaging.management import Management

STAND_INS = ("stripe", "mailbox")
BENCH = "bench (load, SMTP server, watcher)"
RABBITMQ = "RabbitMQ"
POSTGRES = "PostgreSQL (bench databases)"
POSTGRES_REST = "PostgreSQL (rest of the shared server)"
ELSEWHERE = "everything else on the machine"
IDLE_RATE = "RabbitMQ, idle rate (other vhosts' share)"
DISPLAY = {"stripe": "Stripe stand-in", "mailbox": "dev mailbox"}


def _cpu(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return float(t.user + t.system)


def _machine_busy() -> float:
    """CPU seconds the whole machine spent not idle (all cores), as the kernel counts them."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


@dataclass
class Reading:
    at: float
    parts: dict[str, float]
    backends: dict[int, float]  # our PostgreSQL backends by pid
    other_pg: dict[int, float]
    busy: float


@dataclass
class CpuMeter:
    """CPU seconds (user + system) by part between two readings; a part is a process or a server."""

    procs: dict[str, int]  # plan name -> pid
    databases: tuple[str, ...]  # the bench's PostgreSQL databases
    _named: dict[str, psutil.Process] = field(init=False)

    def __post_init__(self) -> None:
        self._named = {DISPLAY.get(n, n): psutil.Process(pid) for n, pid in self.procs.items()}
        self._named[BENCH] = psutil.Process()

    @property
    def paybus(self) -> tuple[str, ...]:
        return (*(n for n in self.procs if n not in STAND_INS), RABBITMQ, POSTGRES)

    def _ours(self, p: psutil.Process) -> bool:
        try:
            title = " ".join(p.cmdline()).split()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
        return any(db in title for db in self.databases)

    def read(self) -> Reading:
        parts = {k: _cpu(p) for k, p in self._named.items()}
        beam, ours, rest = 0.0, dict[int, float](), dict[int, float]()
        for p in psutil.process_iter(["name"]):
            name = p.info["name"] or ""
            if name.startswith("beam"):
                beam += _cpu(p)
            elif name.startswith("postgres"):
                (ours if self._ours(p) else rest)[p.pid] = _cpu(p)
        parts[RABBITMQ] = beam
        return Reading(time.perf_counter(), parts, ours, rest, _machine_busy())

    @staticmethod
    def spent(start: Reading, end: Reading) -> dict[str, float]:
        """Seconds by part; a backend born in between counts from zero (one that ended is lost)."""
        out = {k: v - start.parts.get(k, 0.0) for k, v in end.parts.items()}
        out[POSTGRES] = sum(v - start.backends.get(pid, 0.0) for pid, v in end.backends.items())
        out[POSTGRES_REST] = sum(v - start.other_pg.get(pid, 0.0) for pid, v in end.other_pg.items())
        out[ELSEWHERE] = max(0.0, (end.busy - start.busy) - sum(out.values()))
        return out


async def idle_rate(meter: CpuMeter, seconds: float) -> float:
    """The broker's CPU seconds per second while nothing of the bench runs: other vhosts' share."""
    before = meter.read()
    await asyncio.sleep(seconds)
    after = meter.read()
    return (after.parts[RABBITMQ] - before.parts[RABBITMQ]) / (after.at - before.at)


@dataclass
class Traffic:
    """Committed/rolled-back transactions per bench database (pg_stat_database, no server config
    needed) and messages enqueued and delivered per queue of the bench's vhost (management API).

    Both are counted a little late: a backend reports its counts at most once a second, the broker
    its queue stats every `collect_statistics_interval` (5 s by default); read them after `LAG`.
    """

    database_url: str
    databases: tuple[str, ...]
    amqp_url: str
    vhost: str
    ignore_queues: tuple[str, ...] = ()
    LAG = float(os.environ.get("BENCH_STATS_LAG", "6"))

    _admin: asyncpg.Connection | None = None  # one, held: the shared server may run out of slots

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()

    async def read(self) -> dict[str, float]:
        if self._admin is None:
            self._admin = await asyncpg.connect(self.database_url.rsplit("/", 1)[0] + "/postgres")
        rows = await self._admin.fetch(
            "SELECT datname, xact_commit + xact_rollback AS xacts FROM pg_stat_database"
            " WHERE datname = ANY($1::text[])",
            list(self.databases),
        )
        counts = {f"xacts[{r['datname']}]": float(r["xacts"]) for r in rows}
        async with Management.for_amqp_url(self.amqp_url, os.environ.get("RABBITMQ_MANAGEMENT_URL")) as m:
            queues = await m.queues(self.vhost)
        for q in queues:
            if q["name"] in self.ignore_queues:
                continue
            stats = q.get("message_stats") or {}
            counts[f"enqueued[{q['name']}]"] = float(stats.get("publish", 0))
            counts[f"delivered[{q['name']}]"] = float(stats.get("deliver_get", 0))
        return counts

    @staticmethod
    def delta(start: dict[str, float], end: dict[str, float]) -> dict[str, float]:
        return {k: v - start.get(k, 0.0) for k, v in end.items()}
