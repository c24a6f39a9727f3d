"""Orders entry point: `python -m orders api` (on ORDERS_PORT) or `python -m orders worker` (health on
ORDERS_WORKER_PORT)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import runtime
from orders.main import create_app
from orders.settings import Settings
from orders.worker import open_worker


def main(argv: Sequence[str] | None = None) -> int:
    return runtime.main(argv, service="orders", settings=Settings, api=create_app, worker=open_worker)


if __name__ == "__main__":
    sys.exit(main())
