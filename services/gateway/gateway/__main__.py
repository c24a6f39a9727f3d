"""gateway entry point: `python -m gateway api` serves the app on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from gateway.main import create_app
from gateway.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="paybus gateway")
    parser.add_argument("command", choices=["api"], help="api: serve the shop and the public HTTP API")
    parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(name)s %(message)s")
    logging.getLogger(__name__).info(
        "gateway on http://%s:%s (public %s); orders %s, payments %s, notifier %s",
        settings.gateway_host,
        settings.gateway_port,
        settings.public_url,
        settings.orders_url,
        settings.payments_url,
        settings.notifier_url,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="info",
        ws="none",
        proxy_headers=False,
        server_header=False,
        # above the 60 s idle timeout of common load balancers, so the gateway never closes a
        # connection that a proxy in front is about to reuse
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
