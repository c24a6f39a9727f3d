"""payments entry point: `python -m payments api` (HTTP on PAYMENTS_PORT), `python -m payments worker`
(outbox relay, scheduler and periodic tasks; health on PAYMENTS_WORKER_PORT), or `python -m payments
reconcile [--since SECONDS]` (one reconciliation sweep over Stripe's events now)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import runtime
from messaging import runtime as loop_runtime
from payments import tasks
from payments.deps import Deps
from payments.main import create_app, deps_on
from payments.settings import Settings
from payments.stripe_gateway import StripeUnavailable
from payments.worker import open_worker

log = logging.getLogger("payments.reconcile")


def _since(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"--since must be a positive number of seconds, not {value!r}")
    return seconds


def _reconcile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=_since,
        metavar="SECONDS",
        help="list the events of the last SECONDS (default: from the checkpoint of the last sweep)",
    )


async def reconcile_now(deps: Deps, since: float | None) -> int:
    """One sweep now; prints its summary as one JSON line. 0: completed, 1: Stripe did not answer."""
    try:
        result = await tasks.sweep(deps, since=since)
    except StripeUnavailable as exc:
        log.error("reconcile: Stripe did not answer: %s", exc)
        return 1
    print(json.dumps(result.summary()))
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    settings = Settings()

    async def run() -> int:
        pool = await runtime.open_database(settings, "payments", min_size=1, max_size=4)
        try:
            async with deps_on(settings, pool) as deps:
                return await reconcile_now(deps, args.since)
        finally:
            await pool.close()

    return loop_runtime.run(run())


RECONCILE = runtime.Command(
    help="one reconciliation sweep over Stripe's events now; exit 0 when it completed",
    run=_reconcile,
    arguments=_reconcile_arguments,
)


def main(argv: Sequence[str] | None = None) -> int:
    return runtime.main(
        argv,
        service="payments",
        settings=Settings,
        api=create_app,
        worker=open_worker,
        commands={"reconcile": RECONCILE},
    )


if __name__ == "__main__":
    sys.exit(main())
