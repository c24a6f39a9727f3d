"""stripe_sim entry point: `python -m stripe_sim` serves on STRIPE_SIM_HOST:STRIPE_SIM_PORT."""

import logging

import uvicorn

from stripe_sim.app import create_app
from stripe_sim.settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s stripe-sim %(levelname)s %(message)s")
    logging.getLogger(__name__).info(
        "Stripe stand-in on http://%s:%s, webhooks to %s",
        settings.stripe_sim_host,
        settings.stripe_sim_port,
        settings.webhook_url or "(off)",
    )
    uvicorn.run(
        create_app(settings),
        host=settings.stripe_sim_host,
        port=settings.stripe_sim_port,
        log_level="info",
        ws="none",
        timeout_keep_alive=30,  # clients (the SDK's pool, tests, the bench) let go of idle ones sooner
    )


if __name__ == "__main__":
    main()
