"""Orders entry point: `python -m orders api` (on ORDERS_HOST:ORDERS_PORT) or `python -m orders worker`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from messaging.settings import HTTP_KEEP_ALIVE
from orders import worker
from orders.main import create_app
from orders.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m orders", description=__doc__)
    parser.add_argument("process", choices=["api", "worker"])
    args = parser.parse_args(argv)
    settings = Settings()
    fmt = f"%(asctime)s orders-{args.process} %(levelname)s %(name)s %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt)
    if args.process == "worker":
        worker.main(settings)
        return
    uvicorn.run(
        create_app(settings),
        host=settings.orders_host,
        port=settings.orders_port,
        ws="none",
        timeout_keep_alive=HTTP_KEEP_ALIVE,
    )


if __name__ == "__main__":
    main()
