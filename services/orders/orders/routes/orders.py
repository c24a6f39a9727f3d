"""Order routes: create (priced on the server) and read."""

from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError

from orders import services
from orders.deps import DepsDep
from orders.domain import InvalidOrder
from orders.schemas import OrderCreate, OrderPublic
from runtime.responses import body_errors, not_found

router = APIRouter(prefix="/orders", tags=["orders"])
BODY_ERRORS = body_errors("ORDERS_MAX_BODY_BYTES")
NOT_FOUND = not_found("order")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={**BODY_ERRORS, 422: {"description": "Invalid input: a message for each refused field"}},
)
async def create_order(body: OrderCreate, deps: DepsDep, request: Request, response: Response) -> OrderPublic:
    """Place an order; 422 names each refused field (unknown product, mixed currencies, ...)."""
    items = [(item.product_id, item.quantity) for item in body.items]
    try:
        order = await services.place_order(deps, body.email, items)
    except InvalidOrder as exc:
        request.app.state.metrics.rejected.inc()
        raise RequestValidationError(
            [
                {
                    "type": "invalid_product",
                    "loc": ("body", "items", p.line, p.field),
                    "msg": p.message,
                    "input": p.value,
                }
                for p in exc.problems
            ]
        ) from None
    request.app.state.metrics.created.inc()
    response.headers["Location"] = f"/orders/{order.id}"
    return OrderPublic.of(order)


@router.get("/{order_id}", responses=NOT_FOUND)
async def get_order(order_id: str, deps: DepsDep) -> OrderPublic:
    """The order, or 404 (also for an id that is not a UUID: no such order)."""
    try:
        key = UUID(order_id)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found") from None
    order = await services.get_order(deps, key)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "order not found")
    return OrderPublic.of(order)
