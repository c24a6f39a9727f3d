"""payments checkout routes: create (or reuse) a Stripe Checkout Session for an order, read one."""

from __future__ import annotations

import logging
import time
from uuid import UUID

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict

from payments import services
from payments.deps import DepsDep
from payments.domain import InconsistentOrder, NotPayable, Session, SessionStatus
from payments.orders_client import OrdersUnavailable
from payments.services import UnknownOrder
from payments.stripe_gateway import StripeRefused, StripeUnavailable
from runtime.responses import Detail, body_errors, not_found

log = logging.getLogger(__name__)
router = APIRouter(prefix="/checkout-sessions", tags=["checkout"])
BODY_ERRORS = body_errors()
NOT_FOUND = not_found("checkout session")


class CheckoutCreate(BaseModel):
    """Only the order's id: its lines, amount and status are read from the orders service."""

    model_config = ConfigDict(extra="forbid")
    order_id: UUID


class CheckoutPublic(BaseModel):
    session_id: str
    checkout_url: str | None


class SessionPublic(BaseModel):
    session_id: str
    order_id: str
    status: str
    payment_status: str
    amount: int  # minor units: what the session asks
    currency: str
    # A second payment for an order another session paid: payments refunds it in full (issue 15).
    second_payment: bool = False


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckoutPublic,
    responses={
        **BODY_ERRORS,
        200: {"model": CheckoutPublic, "description": "The session still open for this order"},
        404: {"model": Detail, "description": "The orders service knows no such order"},
        409: {"model": Detail, "description": "The order is not payable"},
        422: {"description": "Invalid body, or an order whose lines do not add up"},
        502: {"model": Detail, "description": "Stripe refused or failed the request"},
        503: {"model": Detail, "description": "The orders service is unreachable"},
    },
)
async def create_checkout_session(body: CheckoutCreate, response: Response, deps: DepsDep) -> CheckoutPublic:
    """Create a Checkout Session for the order as orders states it (201), or return its open one (200)."""
    started = time.perf_counter()

    def observe(outcome: str) -> None:
        deps.metrics.checkout_seconds.labels(outcome).observe(time.perf_counter() - started)

    try:
        result = await services.start_checkout(body.order_id, deps)
    except UnknownOrder as exc:
        observe("unknown_order")
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except OrdersUnavailable as exc:
        observe("orders_unavailable")
        log.error("checkout for order %s: %s", body.order_id, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "orders service unavailable") from None
    except NotPayable as exc:
        observe("not_payable")
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except InconsistentOrder as exc:
        observe("invalid")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except (StripeRefused, StripeUnavailable) as exc:
        observe("stripe_error")
        log.error("checkout for order %s failed at Stripe: %s", body.order_id, exc)
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"Stripe: {exc}") from None
    observe("created" if result.created else "reused")
    if not result.created:
        response.status_code = status.HTTP_200_OK
    assert result.session.session_id is not None
    return CheckoutPublic(session_id=result.session.session_id, checkout_url=result.session.url)


@router.get("/{session_id}", response_model=SessionPublic, responses=NOT_FOUND)
async def get_checkout_session(session_id: str, deps: DepsDep) -> SessionPublic:
    """A session of ours, with Stripe's current status while we still think it is open."""
    async with deps.store.transaction() as repo:
        session = await repo.get_session(session_id)
    if session is None or session.session_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no checkout session {session_id}")
    return await _current(session, deps)


async def _current(session: Session, deps: DepsDep) -> SessionPublic:
    assert session.session_id is not None
    state, payment_status = session.status.value, session.payment_status
    if session.status is SessionStatus.OPEN:  # the customer may be back before the webhook
        try:
            remote = await deps.stripe.retrieve_session(session.session_id)
        except StripeUnavailable as exc:
            log.warning("Stripe unreachable for session %s: %s", session.session_id, exc)
            remote = None
        if remote is not None:
            state, payment_status = remote.status, remote.payment_status
    return SessionPublic(
        session_id=session.session_id,
        order_id=str(session.order_id),
        status=state,
        payment_status=payment_status,
        amount=session.amount,
        currency=session.currency,
        second_payment=session.duplicate_of is not None,
    )
