"""Payment reviews route: payments parked because they do not match their order, for operators."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from orders import services
from orders.deps import DepsDep
from orders.schemas import PaymentReviewPublic

router = APIRouter(prefix="/payment-reviews", tags=["payment reviews"])


@router.get("", responses={422: {"description": "order_id is not a UUID, or limit is out of range"}})
async def list_payment_reviews(
    deps: DepsDep,
    order_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[PaymentReviewPublic]:
    """Parked payments, newest first (of one order with `order_id`): none of them marked an order paid."""
    return [PaymentReviewPublic.of(r) for r in await services.list_reviews(deps, order_id, limit)]
