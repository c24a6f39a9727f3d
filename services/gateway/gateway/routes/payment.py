"""gateway payment pages and the Stripe webhook: Pay, back from Checkout, and the relayed webhook."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway import domain, pages
from gateway.deps import UpstreamsDep
from gateway.errors import PAGES_TAG, error_page
from gateway.schemas import PAGE_BODY_ERRORS, PAGE_UPSTREAM_ERRORS, UPSTREAM_ERRORS, Order, page
from gateway.upstreams import NotPayable, UpstreamError, Upstreams
from runtime import requests

router = APIRouter(prefix="/payment")
log = logging.getLogger(__name__)
ORDER_NOT_FOUND = "We could not find that order. Check the link in your e-mail."
PAYMENT_NOT_FOUND = "We could not find that payment. Check the link, or open your order from its e-mail."
CANCELED_TITLES = {
    "paid": "Your order is paid",
    "refunded": "Your order was refunded",
    "canceled": "Your order was canceled",
}


@router.post(
    "/process/",
    tags=[PAGES_TAG],
    response_class=HTMLResponse,
    responses={
        303: {"description": "To the Stripe-hosted Checkout page"},
        **page(404, "No such order"),
        **page(409, "The order cannot be paid (paid, canceled, or past its deadline)"),
        **PAGE_BODY_ERRORS,
        **PAGE_UPSTREAM_ERRORS,
    },
)
async def process_payment(request: Request, upstreams: UpstreamsDep) -> Response:
    """Form field `order_id`: 303 to the Stripe-hosted Checkout page; 409 page when not payable."""
    order_id = (await request.form()).get("order_id")
    parsed = domain.parse_uuid(order_id) if isinstance(order_id, str) else None
    if parsed is None:
        return error_page(status.HTTP_404_NOT_FOUND, ORDER_NOT_FOUND)
    try:
        checkout = await upstreams.checkout(parsed)
    except NotPayable as exc:
        return pages.render(
            "not_payable.html",
            status.HTTP_409_CONFLICT,
            title="This order cannot be paid",
            order_id=parsed,
            reason=exc.detail,
        )
    if checkout is None:
        return error_page(status.HTTP_404_NOT_FOUND, ORDER_NOT_FOUND)
    return RedirectResponse(checkout.session.checkout_url, status_code=status.HTTP_303_SEE_OTHER)


@router.get(
    "/completed/",
    tags=[PAGES_TAG],
    response_class=HTMLResponse,
    responses={**page(404, "No such payment"), **PAGE_UPSTREAM_ERRORS},
)
async def payment_completed(upstreams: UpstreamsDep, session_id: str = "", attempt: str = "0") -> Response:
    """Back from Checkout: shows the order, reloading itself until the webhook has marked it paid."""
    session = await upstreams.get_session(session_id) if domain.valid_session_id(session_id) else None
    order = await upstreams.get_order(session.order_id) if session else None
    if session is None or order is None:
        return error_page(status.HTTP_404_NOT_FOUND, PAYMENT_NOT_FOUND)
    tries = domain.refresh_attempt(attempt)
    following = order.status == "pending"
    return pages.render(
        "completed.html",
        title="Order paid" if order.status == "paid" else "Your payment",
        order=order,
        session=session,
        payable=domain.payable(order, datetime.now(UTC)),
        refresh=domain.refresh_delay(tries) if following else None,
        refresh_url=f"/payment/completed/?session_id={session.session_id}&attempt={tries + 1}",
    )


@router.get("/canceled/", tags=[PAGES_TAG], response_class=HTMLResponse)
async def payment_canceled(upstreams: UpstreamsDep, order_id: str = "", session_id: str = "") -> Response:
    """Back from Checkout without paying: says what is true of the order now (orders decides), since
    another tab or a delayed payment may have paid it; offers to pay while it is payable."""
    parsed = domain.parse_uuid(order_id) if order_id else None
    if parsed is None and domain.valid_session_id(session_id):
        parsed = await _order_of_session(upstreams, session_id)
    order, unchecked = await _order_now(upstreams, parsed) if parsed else (None, False)
    if order is None and not unchecked:
        parsed = None  # orders does not know it: no link to a page that would say so
    return pages.render(
        "canceled.html",
        title=CANCELED_TITLES.get(order.status, "Payment canceled") if order else "Payment canceled",
        order_id=parsed,
        order=order,
        unchecked=unchecked,
        payable=order is not None and domain.payable(order, datetime.now(UTC)),
    )


async def _order_of_session(upstreams: Upstreams, session_id: str) -> UUID | None:
    """Only to link back to the order: if payments cannot tell, the page links to the shop instead."""
    try:
        session = await upstreams.get_session(session_id)
    except UpstreamError as exc:
        log.warning("canceled page without order link: %s (request_id=%s)", exc, requests.request_id.get())
        return None
    return session.order_id if session else None


async def _order_now(upstreams: Upstreams, order_id: UUID) -> tuple[Order | None, bool]:
    """The order as orders knows it, and whether orders could not be asked (the page then claims nothing)."""
    try:
        return await upstreams.get_order(order_id), False
    except UpstreamError as exc:
        log.warning("canceled page without order status: %s (request_id=%s)", exc, requests.request_id.get())
        return None, True


@router.post(
    "/webhook/",
    tags=["webhook"],
    responses={
        **UPSTREAM_ERRORS,
        200: {"description": "payments stored the event (also a duplicate or an ignored type)"},
        400: {"description": "Bad signature or body (payments' answer, passed back)"},
        401: {"description": "payments refused the gateway's service token (misconfiguration)"},
        408: {"description": "The body did not arrive in time"},
        413: {"description": "The body is larger than a Stripe event can be"},
        503: {"description": "payments is unreachable or could not store the event now: Stripe retries"},
    },
)
async def relay_webhook(request: Request, upstreams: UpstreamsDep) -> Response:
    """Stripe's webhook: the raw body and Stripe-Signature go to payments untouched; its answer comes back."""
    raw = dict(request.scope["headers"])  # bytes as received: no decoding, no re-encoding
    reply = await upstreams.forward_webhook(
        await request.body(), raw.get(b"stripe-signature"), raw.get(b"content-type")
    )
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type)
