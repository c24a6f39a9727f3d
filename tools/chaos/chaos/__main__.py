"""`python -m chaos` (make chaos): the fault suite on a 3-node RabbitMQ cluster and a PostgreSQL of its own.

One JSON line per scenario, then a table; exits 1 if a scenario lost or doubled a payment or did not
recover within 60 s of its fault. Process logs stay in the run's directory, printed on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from chaos.driver import Driver
from chaos.faults import FAULTS, Lab, replication
from chaos.observer import PaidEvents
from chaos.proxy import TcpBalancer
from chaos.servers import (
    PgServer,
    RabbitCluster,
    free_port,
    pg_server,
    postgres_available,
    rabbit_available,
    rabbit_cluster,
)
from chaos.suite import Observers, Result, run_scenario, table, wait_ready
from chaos.system import Supervisor, environment, load_run, members, quorum_queues

DB_PREFIX = "chaos"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--scenarios", default=",".join(FAULTS), help="comma-separated; default: all")
    parser.add_argument("--payments", type=int, default=200, help="payments per scenario")
    parser.add_argument("--rate", type=float, default=20.0, help="payments started per second")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs) on success")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in FAULTS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(FAULTS)}")
    return args


async def suite(cluster: RabbitCluster, pg: PgServer, logs: Path, args: argparse.Namespace) -> list[Result]:
    proxy = TcpBalancer([n.amqp_port for n in cluster.nodes], free_port())
    await proxy.start()
    amqp_url = f"amqp://guest:guest@127.0.0.1:{proxy.port}/"
    env = environment(amqp_url, pg.dsn(DB_PREFIX), cluster.management_url)
    with quorum_queues():
        await load_run().prepare(env)
    supervisor = Supervisor(members(env, logs))
    supervisor.start_all()
    supervising = asyncio.create_task(supervisor.run())
    lab = Lab(cluster, pg, supervisor, env, DB_PREFIX + "_")
    rid = uuid.uuid4().hex[:8]
    paid = PaidEvents(amqp_url, f"chaos.observer.{rid}")
    driver = Driver(env["PUBLIC_BASE_URL"], env["STRIPE_API_BASE"], rid)
    mailbox = httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['MAILBOX_PORT']}", timeout=30)
    try:
        return await _scenarios(lab, Observers(driver, paid, mailbox), args, logs)
    finally:
        await paid.close()
        await driver.aclose()
        await mailbox.aclose()
        await asyncio.to_thread(supervisor.stop)
        supervising.cancel()
        await proxy.close()
        (logs / "chaos-notes.log").write_text("\n".join(supervisor.events + lab.notes) + "\n")


async def _scenarios(lab: Lab, seen: Observers, args: argparse.Namespace, logs: Path) -> list[Result]:
    if late := await wait_ready(lab, 120):
        raise SystemExit(f"chaos: not ready after 120 s: {late}; logs in {logs}")
    await seen.paid.start()
    lab.note(await replication(lab))
    results: list[Result] = []
    for name in args.scenarios:
        if late := await wait_ready(lab, 60):
            lab.note(f"not ready before {name} (after 60 s): {late}")
        result = await run_scenario(lab, seen, name, args.payments, args.rate)
        results.append(result)
        print(result.line(), flush=True)
    return results


def _keep_server_logs(cluster: RabbitCluster, pg: PgServer, logs: Path) -> None:
    for node in cluster.nodes:
        if node.log_file.exists():
            shutil.copy(node.log_file, logs / f"rabbit-{node.name}.log")
    if pg.log_file.exists():
        shutil.copy(pg.log_file, logs / "postgres.log")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("aiormq", "aio_pika"):  # our observer's reconnects; it says so itself
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    if reason := rabbit_available() or postgres_available():
        print(f"chaos: cannot run servers of our own: {reason}", file=sys.stderr)
        return 2
    run_dir = Path(tempfile.mkdtemp(prefix="paybus-chaos-"))
    run_dir.chmod(0o755)
    logs = run_dir / "logs"
    logs.mkdir()
    print(f"chaos: run directory {run_dir}", file=sys.stderr, flush=True)
    with rabbit_cluster(3, run_dir / "rabbit") as cluster, pg_server(run_dir / "pg") as pg:
        try:
            results = asyncio.run(suite(cluster, pg, logs, args))
        finally:
            _keep_server_logs(cluster, pg, logs)
    print(table(results))
    failed = [r.chaos for r in results if not r.ok]
    if failed:
        print(f"chaos: FAILED {', '.join(failed)}; logs and notes in {logs}", file=sys.stderr)
        print((logs / "chaos-notes.log").read_text(), file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
