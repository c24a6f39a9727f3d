"""payments' port to the orders service: the order as its owner states it (amount, lines, status).

A Checkout Session is built only from this answer, never from what a caller sends (issue 13, finding 1).
"""

from __future__ import annotations

import logging
from typing import Protocol
from uuid import UUID

import httpx
from pydantic import ValidationError

from payments.domain import Order

log = logging.getLogger(__name__)


class OrdersUnavailable(Exception):
    """orders did not answer usefully (network, 5xx, a refused credential, a body we cannot read)."""


class OrdersApi(Protocol):
    """Reads one order from the orders service; HttpOrders is the real one, unit tests use a fake."""

    async def get_order(self, order_id: UUID) -> Order | None: ...
    async def aclose(self) -> None: ...


class HttpOrders:
    """`GET {orders_url}/orders/{id}` with the service credential, on one pooled httpx client."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # trust_env=False: an HTTP(S)_PROXY meant for the outside world must not catch internal calls.
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            trust_env=False,
            transport=transport,
        )

    async def get_order(self, order_id: UUID) -> Order | None:
        try:
            response = await self._client.get(f"/orders/{order_id}")
        except httpx.HTTPError as exc:
            raise OrdersUnavailable(f"orders unreachable: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise OrdersUnavailable(f"orders answered {response.status_code} for order {order_id}")
        try:
            order = Order.model_validate_json(response.content)
        except ValidationError as exc:
            raise OrdersUnavailable(
                f"orders sent an order we cannot read: {exc.error_count()} errors"
            ) from exc
        if order.id != order_id:
            raise OrdersUnavailable(f"orders answered order {order.id} when asked for {order_id}")
        return order

    async def aclose(self) -> None:
        await self._client.aclose()
