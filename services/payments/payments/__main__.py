"""payments entry point: `python -m payments api` (HTTP on PAYMENTS_PORT) or `python -m payments worker`
(outbox relay; health on PAYMENTS_WORKER_PORT)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import runtime
from payments.main import create_app
from payments.settings import Settings
from payments.worker import open_worker


def main(argv: Sequence[str] | None = None) -> int:
    return runtime.main(argv, service="payments", settings=Settings, api=create_app, worker=open_worker)


if __name__ == "__main__":
    sys.exit(main())
