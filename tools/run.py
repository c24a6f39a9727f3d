"""`make run`: prepare databases and topology, start every process under honcho, wait until ready, print URLs.

The same process table (`plan`) starts the system for the end-to-end tests, so they run it as
`make run` does. Every port and URL comes from the environment variables of ARCHITECTURE.md.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SERVICES_WITH_DATABASES = ("orders", "payments", "notifier")
DEFAULTS = {
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/paybus",
    "GATEWAY_PORT": "8000",
    "ORDERS_PORT": "8001",
    "PAYMENTS_PORT": "8002",
    "NOTIFIER_PORT": "8003",
    "ORDERS_WORKER_PORT": "8011",
    "PAYMENTS_WORKER_PORT": "8012",
    "NOTIFIER_WORKER_PORT": "8013",
    "STRIPE_SIM_PORT": "12111",
    "MAILBOX_PORT": "8025",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "1025",
    "DEV_STRIPE": "1",
    "DEV_MAILBOX": "1",
}


@dataclass(frozen=True)
class Proc:
    name: str
    argv: tuple[str, ...]
    ready_url: str | None = None  # answers 200 once the process is ready
    env: Mapping[str, str] = field(default_factory=dict)


def settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment every child gets: defaults, then the caller's, then what the dev stand-ins imply."""
    env = {**DEFAULTS, **{k: v for k, v in environ.items() if v != ""}}
    # The credential the gateway (and payments) present to the internal APIs: one per run when unset.
    env.setdefault("SERVICE_TOKEN", secrets.token_urlsafe(32))
    # honcho pipes the children's output: they would log JSON; a person at a terminal reads text
    env.setdefault("LOG_FORMAT", "text" if sys.stdout.isatty() else "json")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{env['GATEWAY_PORT']}")
    for name in ("ORDERS", "PAYMENTS", "NOTIFIER"):
        env.setdefault(f"GATEWAY_{name}_URL", f"http://127.0.0.1:{env[name + '_PORT']}")
    env.setdefault("PAYMENTS_ORDERS_URL", f"http://127.0.0.1:{env['ORDERS_PORT']}")  # payments reads orders
    if env["DEV_STRIPE"] == "1":
        env["STRIPE_API_BASE"] = f"http://127.0.0.1:{env['STRIPE_SIM_PORT']}"
        env.setdefault("STRIPE_SIM_WEBHOOK_URL", env["PUBLIC_BASE_URL"].rstrip("/") + "/payment/webhook/")
        env.setdefault("STRIPE_SIM_PUBLIC_URL", env["STRIPE_API_BASE"])
        env.setdefault("STRIPE_SIM_WEBHOOK_CONCURRENCY", "16")  # Stripe delivers side by side, unordered
    return env


def plan(env: Mapping[str, str]) -> list[Proc]:
    """Every process of the system, with its readiness URL (a worker's is on its own health port)."""
    py = sys.executable
    procs: list[Proc] = []
    if env["DEV_STRIPE"] == "1":
        procs.append(Proc("stripe", (py, "-m", "stripe_sim"), f"{env['STRIPE_API_BASE']}/_sim/config"))
    if env["DEV_MAILBOX"] == "1":
        procs.append(
            Proc("mailbox", (py, "-m", "devmailbox"), f"http://127.0.0.1:{env['MAILBOX_PORT']}/healthz")
        )
    for service in ("orders", "payments", "notifier", "gateway"):
        port = env[f"{service.upper()}_PORT"]
        procs.append(Proc(f"{service}-api", (py, "-m", service, "api"), f"http://127.0.0.1:{port}/readyz"))
        if service != "gateway":
            ready = f"http://127.0.0.1:{env[f'{service.upper()}_WORKER_PORT']}/readyz"
            procs.append(Proc(f"{service}-worker", (py, "-m", service, "worker"), ready))
    return procs


def missing_services(env: Mapping[str, str]) -> list[str]:
    out = []
    for name, url, port in (("RabbitMQ", env["AMQP_URL"], 5672), ("PostgreSQL", env["DATABASE_URL"], 5432)):
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=2).close()
        except OSError:
            out.append(f"{name} does not answer at {parts.hostname}:{parts.port or port}")
    return out


async def prepare(env: Mapping[str, str]) -> None:
    """Create and migrate each service's database, and declare the whole topology."""
    from messaging.broker import connect
    from messaging.migrations import prepare_database
    from runtime import migrations_dir  # the one convention: services/<name>/migrations

    for service in SERVICES_WITH_DATABASES:
        await prepare_database(env["DATABASE_URL"], service, migrations_dir(service))
    broker = await connect(env["AMQP_URL"], name="make-run")
    try:
        await broker.declare()
    finally:
        await broker.close()


def wait_ready(procs: list[Proc], timeout: float = 90.0) -> list[str]:
    """Poll every readiness URL; return the names still not ready when time is up."""
    pending = {p.name: p.ready_url for p in procs if p.ready_url}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        del pending[name]
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.3)
    return sorted(pending)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Started = list[subprocess.Popen[bytes]]


def start(procs: list[Proc], env: Mapping[str, str], logs: Path | None = None) -> Started:
    """Start the plan's processes outside honcho (tests, bench); each logs to `logs/<name>.log` or nowhere."""
    child_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    started: Started = []
    for proc in procs:
        with open(logs / f"{proc.name}.log", "wb") if logs else open(os.devnull, "wb") as out:
            # the child keeps its own copy of the file descriptor
            started.append(
                subprocess.Popen(proc.argv, env={**child_env, **proc.env}, cwd=ROOT, stdout=out, stderr=out)
            )
    return started


def stop(procs: Started, grace: float = 15.0) -> None:
    """SIGTERM everything (each process drains), then wait; SIGKILL what hangs."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()


def banner(env: Mapping[str, str], procs: list[Proc]) -> str:
    names = {p.name for p in procs}
    amqp = urlsplit(env["AMQP_URL"])
    base = env["PUBLIC_BASE_URL"].rstrip("/")
    lines = ["", "paybus is up:", f"  shop              {base}/", f"  API docs          {base}/docs"]
    if "mailbox" in names:
        lines.append(f"  mailbox           http://127.0.0.1:{env['MAILBOX_PORT']}/")
    if "stripe" in names:
        lines.append(f"  Stripe stand-in   {env['STRIPE_API_BASE']}/  (dev only)")
    lines.append(f"  RabbitMQ UI       http://{amqp.hostname}:15672/  (guest/guest locally)")
    workers = [f"{s} :{env[s.upper() + '_WORKER_PORT']}" for s in ("orders", "payments", "notifier")]
    lines.append(f"  worker health     {', '.join(workers)}  (/healthz /readyz /metrics)")
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines)


def main() -> int:
    from honcho.manager import Manager

    env = settings(os.environ)
    problems = missing_services(env)
    if problems:
        print("make run: " + "; ".join(problems), file=sys.stderr)
        print("start them (see README: 'Your machine') or set AMQP_URL / DATABASE_URL", file=sys.stderr)
        return 1
    asyncio.run(prepare(env))
    procs = plan(env)
    manager = Manager()
    for proc in procs:
        child_env = {**os.environ, **env, **proc.env}
        manager.add_process(proc.name, " ".join(proc.argv), env=child_env, cwd=str(ROOT))

    def announce() -> None:
        late = wait_ready(procs)
        print(banner(env, procs) if not late else f"not ready after 90 s: {', '.join(late)}", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    manager.loop()
    code = manager.returncode or 0
    return 0 if code in (130, 143) else code  # Ctrl-C / SIGTERM asked for the stop: a clean exit


if __name__ == "__main__":
    sys.exit(main())
