"""notifier entry point: `python -m notifier api` (health and metrics on NOTIFIER_PORT) or
`python -m notifier worker` (sends e-mails; health on NOTIFIER_WORKER_PORT)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import runtime
from notifier.main import create_app
from notifier.settings import Settings
from notifier.worker import open_worker


def main(argv: Sequence[str] | None = None) -> int:
    return runtime.main(argv, service="notifier", settings=Settings, api=create_app, worker=open_worker)


if __name__ == "__main__":
    sys.exit(main())
