"""payments entry point: `python -m payments api` (HTTP) or `python -m payments worker` (outbox relay)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from messaging.settings import HTTP_KEEP_ALIVE
from payments import worker
from payments.main import create_app
from payments.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m payments")
    parser.add_argument("mode", choices=["api", "worker"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s payments %(name)s %(levelname)s %(message)s")
    if args.mode == "worker":
        worker.main()
        return
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.payments_host,
        port=settings.payments_port,
        ws="none",
        timeout_keep_alive=HTTP_KEEP_ALIVE,
    )


if __name__ == "__main__":
    main()
