"""gateway entry point: `python -m gateway api` serves the app on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import runtime
from gateway.main import create_app
from gateway.settings import Settings

# above the 60 s idle timeout of common load balancers, so the gateway never closes a connection that a
# proxy in front is about to reuse
KEEP_ALIVE = 75


def main(argv: Sequence[str] | None = None) -> int:
    return runtime.main(argv, service="gateway", settings=Settings, api=create_app, keep_alive=KEEP_ALIVE)


if __name__ == "__main__":
    sys.exit(main())
