"""gateway JSON API: products, orders and checkout, relayed to orders and payments."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel

from gateway import domain
from gateway.deps import UpstreamsDep
from gateway.schemas import BODY_ERRORS, UPSTREAM_ERRORS, CheckoutSession, Order, OrderCreate, Product
from gateway.throttle import TOO_MANY, OrderLimit

router = APIRouter(prefix="/api", tags=["api"])
ORDER_NOT_FOUND = "Order not found"


class Detail(BaseModel):
    detail: str


_UPSTREAM_ERRORS = UPSTREAM_ERRORS


@router.get("/products", responses=_UPSTREAM_ERRORS)
async def list_products(upstreams: UpstreamsDep) -> list[Product]:
    """Products on sale; prices in minor units."""
    return await upstreams.list_products()


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_UPSTREAM_ERRORS,
        **BODY_ERRORS,
        **TOO_MANY,
        422: {"description": "Invalid input: per-field messages from orders"},
    },
)
async def create_order(body: OrderCreate, upstreams: UpstreamsDep, _: OrderLimit) -> Order:
    """Create an order; it waits for payment."""
    return await upstreams.create_order(body)


@router.get("/orders/{order_id}", responses={**_UPSTREAM_ERRORS, 404: {"model": Detail}})
async def get_order(order_id: str, upstreams: UpstreamsDep) -> Order:
    """An order and its status: pending, paid, payment_failed, canceled or refunded."""
    parsed = domain.parse_uuid(order_id)
    order = await upstreams.get_order(parsed) if parsed else None
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, ORDER_NOT_FOUND)
    return order


@router.post(
    "/orders/{order_id}/checkout",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_UPSTREAM_ERRORS,
        200: {"model": CheckoutSession, "description": "The session still open for this order"},
        404: {"model": Detail},
        409: {"model": Detail, "description": "The order is not payable"},
    },
)
async def checkout_order(order_id: str, upstreams: UpstreamsDep, response: Response) -> CheckoutSession:
    """Start (or resume) paying an order: send the customer to `checkout_url`."""
    parsed = domain.parse_uuid(order_id)
    checkout = await upstreams.checkout(parsed) if parsed else None
    if checkout is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, ORDER_NOT_FOUND)
    if not checkout.created:
        response.status_code = status.HTTP_200_OK
    return checkout.session
