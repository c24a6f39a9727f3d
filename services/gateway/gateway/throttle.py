"""gateway throttle: order creation per client (ORDER_RATE_LIMIT a minute), 429 with Retry-After beyond it.

`limits`' moving window over its in-memory storage: no burst at a fixed window's edge, nothing to run
beside the gateway. The count is per gateway process; several replicas each allow the limit.

The client is the peer address of the connection; no forwarded header is believed (the server runs
with proxy headers off), so no client can choose its own address. Behind a reverse proxy or load
balancer the peer is the proxy: limit there, or trust the proxy's forwarded header from its address
only (README, Security model), never a header any client can set.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

NAMESPACE = "gateway-orders"


class OrderThrottle:
    """At most `per_minute` orders per client in any 60 s."""

    def __init__(self, per_minute: int) -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def admit(self, client: str) -> int | None:
        """None if the client may create an order now (and count it), else seconds until it may."""
        if await self._limiter.hit(self._item, NAMESPACE, client):
            return None
        stats = await self._limiter.get_window_stats(self._item, NAMESPACE, client)
        return max(1, math.ceil(stats.reset_time - time.time()))


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def limit_orders(request: Request) -> None:
    """Dependency of every route that creates an order: 429 with Retry-After beyond the limit."""
    throttle = request.app.state.throttle
    assert isinstance(throttle, OrderThrottle), "create_app sets app.state.throttle"
    wait = await throttle.admit(client_of(request))
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many orders from your address: try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )


OrderLimit = Annotated[None, Depends(limit_orders)]
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many orders from this client: wait `Retry-After` seconds"}
}
