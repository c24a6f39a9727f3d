"""notifier entry point: `python -m notifier api` (health and metrics) or `python -m notifier worker`."""

from __future__ import annotations

import logging
import sys

import uvicorn

from messaging.settings import HTTP_KEEP_ALIVE
from notifier import worker
from notifier.main import create_app
from notifier.settings import Settings

USAGE = "usage: python -m notifier api|worker"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("api", "worker"):
        print(USAGE, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s notifier %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if argv[0] == "worker":
        worker.main(settings)
        return 0
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.notifier_host,
        port=settings.notifier_port,
        log_level="info",
        ws="none",
        timeout_keep_alive=HTTP_KEEP_ALIVE,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
