"""Chaos room: the whole system on our own servers, started as `make run` starts it (tools/run.py).

tools/run.py's `settings()`, `plan()`, `prepare()`, `start()` and `wait_ready()` are reused, not copied;
workers get two replicas each (each on its own health port), and a supervisor restarts a process
that exits or fails its liveness probe, as Kubernetes would.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from chaos.servers import free_port

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[3]
PORT_VARIABLES = ("GATEWAY_PORT", "ORDERS_PORT", "PAYMENTS_PORT", "NOTIFIER_PORT", "STRIPE_SIM_PORT")
MORE_PORTS = (
    "MAILBOX_PORT",
    "SMTP_PORT",
    "ORDERS_WORKER_PORT",
    "PAYMENTS_WORKER_PORT",
    "NOTIFIER_WORKER_PORT",
)
LIVENESS_PERIOD = 5.0  # Kubernetes: periodSeconds
LIVENESS_FAILURES = 3  # Kubernetes: failureThreshold
LIVENESS_DELAY = 30.0  # Kubernetes: initialDelaySeconds


def load_run() -> ModuleType:
    """tools/run.py (a script, not a package), loaded once under the name the e2e tests use."""
    if (loaded := sys.modules.get("paybus_run")) is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("paybus_run", ROOT / "tools" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def quorum_queues() -> Iterator[None]:
    """Declare quorum queues (the production default) even under pytest, which sets classic."""
    saved = os.environ.get("PAYBUS_QUEUE_TYPE")
    os.environ["PAYBUS_QUEUE_TYPE"] = "quorum"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PAYBUS_QUEUE_TYPE", None)
        else:
            os.environ["PAYBUS_QUEUE_TYPE"] = saved


def environment(amqp_url: str, database_url: str, management_url: str) -> dict[str, str]:
    """tools/run.py's settings() on free ports, our servers, and limits a payment stream needs."""
    ports = {name: str(free_port()) for name in PORT_VARIABLES + MORE_PORTS}
    env: dict[str, str] = load_run().settings(
        {
            **ports,
            "AMQP_URL": amqp_url,
            "DATABASE_URL": database_url,
            "RABBITMQ_MANAGEMENT_URL": management_url,
            "PAYBUS_QUEUE_TYPE": "quorum",
            "DEV_STRIPE": "1",
            "DEV_MAILBOX": "1",
            "ORDER_RATE_LIMIT": "1000000",  # one driver is every customer: no per-client limit
            "MAIL_PER_ADDRESS_PER_HOUR": "1000",
            "MAILBOX_LIMIT": "1000000",
            "STRIPE_SIM_RETRY_MAX": "8",  # Stripe backs off for hours; we want retries within the window
        }
    )
    return env


@dataclass
class Member:
    """One process of the system (one replica) and what its supervisor knows of it."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    ready_url: str | None
    health_url: str | None
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    probe_failures: int = 0

    @property
    def kind(self) -> str:
        return self.name.rsplit("-", 1)[0] if self.name[-1].isdigit() else self.name

    def spawn(self) -> None:
        with open(self.log_path, "ab") as out:
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=out)
        self.started_at = time.monotonic()
        self.restart_at = None
        self.probe_failures = 0


def members(env: Mapping[str, str], logs: Path, replicas: int = 2) -> list[Member]:
    """run.py's plan, with `replicas` copies of each worker, each on a health port of its own."""
    out: list[Member] = []
    base_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    for proc in load_run().plan(env):
        copies = replicas if proc.name.endswith("-worker") else 1
        for n in range(1, copies + 1):
            out.append(_member(proc, n if copies > 1 else 0, env, base_env, logs))
    return out


def _member(proc: Any, n: int, env: Mapping[str, str], base_env: dict[str, str], logs: Path) -> Member:
    name = f"{proc.name}-{n}" if n else proc.name
    child_env = {**base_env, **proc.env}
    ready = proc.ready_url
    if proc.name.endswith("-worker"):
        variable = proc.name.split("-")[0].upper() + "_WORKER_PORT"
        port = str(free_port())
        if ready:
            ready = ready.replace(f":{env[variable]}/", f":{port}/")
        child_env[variable] = port
    health = ready.replace("/readyz", "/healthz") if ready and ready.endswith("/readyz") else None
    return Member(name, tuple(proc.argv), child_env, ready, health, logs / f"{name}.log")


@dataclass
class Supervisor:
    """Restarts a member that exits (CrashLoopBackOff-like delays) or fails its liveness probe 3 times."""

    members: list[Member]
    events: list[str] = field(default_factory=list)
    _stopping: bool = False

    def start_all(self) -> None:
        for member in self.members:
            member.spawn()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=2) as http:
            last_probe = time.monotonic()
            while not self._stopping:
                for member in self.members:
                    self._check_exit(member)
                if time.monotonic() - last_probe >= LIVENESS_PERIOD:
                    last_probe = time.monotonic()
                    await asyncio.gather(*(self._probe(http, m) for m in self.members))
                await asyncio.sleep(0.3)

    def note(self, text: str) -> None:
        self.events.append(f"{time.strftime('%H:%M:%S')} {text}")
        log.info("supervisor: %s", text)

    def _check_exit(self, member: Member) -> None:
        if self._stopping:
            return
        if member.restart_at is not None:
            if time.monotonic() >= member.restart_at:
                member.restarts += 1
                member.spawn()
            return
        code = member.popen.poll() if member.popen is not None else None
        if member.popen is None or code is None:
            return
        delay = min(10.0, 0.5 * 2 ** min(member.restarts, 5))
        self.note(f"{member.name} (pid {member.popen.pid}) exited with {code}; restart in {delay:.1f}s")
        member.restart_at = time.monotonic() + delay

    async def _probe(self, http: httpx.AsyncClient, member: Member) -> None:
        popen = member.popen
        if member.health_url is None or popen is None or popen.poll() is not None:
            return
        if time.monotonic() - member.started_at < LIVENESS_DELAY:
            return
        try:
            ok = (await http.get(member.health_url)).status_code == 200
        except httpx.HTTPError:
            ok = False
        member.probe_failures = 0 if ok else member.probe_failures + 1
        if member.probe_failures >= LIVENESS_FAILURES:
            self.note(f"{member.name} (pid {popen.pid}) failed {LIVENESS_FAILURES} liveness probes: SIGKILL")
            popen.kill()  # _check_exit sees the exit and restarts it
            member.probe_failures = 0

    def stop(self, grace: float = 15.0) -> None:
        self._stopping = True
        load_run().stop([m.popen for m in self.members if m.popen is not None], grace)

    def by_kind(self, kind: str) -> list[Member]:
        return [m for m in self.members if m.kind == kind]

    @property
    def restarts(self) -> int:
        return sum(m.restarts for m in self.members)
