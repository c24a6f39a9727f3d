"""gateway readiness: one check per service, by runtime's convention (raise when not ready).

The three checks of one /readyz share a single round of upstream calls (`Upstreams.readiness`). The
answer names each service "ok" or "failed", nothing of what the service said: the public port tells no
internal detail, and each service's own /readyz (internal) names its failing check.
"""

from __future__ import annotations

import asyncio

from gateway.upstreams import SERVICES, Check, Upstreams
from runtime import Check as Probe
from runtime import CheckFailed


def readiness_checks(upstreams: Upstreams) -> dict[str, Probe]:
    round_: asyncio.Future[dict[str, Check]] | None = None

    def current() -> asyncio.Future[dict[str, Check]]:
        nonlocal round_
        if round_ is None or round_.done():  # the first check of a /readyz starts the round
            round_ = asyncio.ensure_future(upstreams.readiness())
        return round_

    def check(service: str) -> Probe:
        async def ready() -> None:
            answer = (await asyncio.shield(current())).get(service)
            if answer is None or not answer.ready:
                raise CheckFailed(f"{service} not ready: {answer.detail if answer else 'no answer'}")

        return ready

    return {service: check(service) for service in SERVICES}
