"""Payment reviews route: payments parked because they do not match their order, for operators."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from orders import services
from orders.deps import DepsDep
from orders.schemas import PaymentReviewPublic

router = APIRouter(prefix="/payment-reviews", tags=["payment reviews"])


class ReviewFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped parameter is an error, not "all reviews"
    order_id: UUID | None = None
    limit: int = Field(default=100, ge=1, le=1000)


@router.get("", responses={422: {"description": "An unknown parameter, or one out of range"}})
async def list_payment_reviews(
    deps: DepsDep, query: Annotated[ReviewFilter, Query()]
) -> list[PaymentReviewPublic]:
    """Parked payments, newest first (of one order with `order_id`): none of them marked an order paid."""
    reviews = await services.list_reviews(deps, query.order_id, query.limit)
    return [PaymentReviewPublic.of(r) for r in reviews]
