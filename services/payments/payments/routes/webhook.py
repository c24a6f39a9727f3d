"""payments webhook route: Stripe's raw body and signature in, 2xx only once the event is committed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel

from payments import services
from payments.deps import Deps, DepsDep
from payments.domain import InvalidEvent, parse_event
from payments.stripe_gateway import StripeUnavailable, WebhookRejected
from runtime.responses import Detail

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhook"])
MAX_BODY = 1024 * 1024  # Stripe's events are a few KiB; anything near this is not Stripe


class WebhookReceived(BaseModel):
    received: bool
    id: str
    note: str  # what the event did: payment.succeeded, duplicate, ignored, ...


def _reject(deps: Deps, code: int, reason: str, detail: str) -> HTTPException:
    deps.metrics.webhook_rejected.labels(reason).inc()
    log.warning("webhook rejected (%s): %s", reason, detail)
    return HTTPException(code, detail)


async def _read_limited(request: Request, deps: Deps) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _reject(deps, status.HTTP_400_BAD_REQUEST, "bad_length", "invalid Content-Length")
        if int(declared) > MAX_BODY:
            raise _reject(deps, status.HTTP_413_CONTENT_TOO_LARGE, "too_large", "body over 1 MiB")
    chunks, size = [], 0
    async for chunk in request.stream():  # chunked bodies declare no length: count as they come
        size += len(chunk)
        if size > MAX_BODY:
            raise _reject(deps, status.HTTP_413_CONTENT_TOO_LARGE, "too_large", "body over 1 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/webhook",
    response_model=WebhookReceived,
    responses={
        400: {"model": Detail, "description": "No valid Stripe signature, or a body that is not an event"},
        408: {"model": Detail, "description": "The body did not arrive in time"},
        413: {"model": Detail, "description": "The body is larger than a Stripe event can be"},
        503: {"model": Detail, "description": "Stripe unreachable: nothing stored, Stripe delivers again"},
    },
)
async def receive_webhook(request: Request, deps: DepsDep) -> WebhookReceived:
    """Stripe webhook: verify the signature over the raw body, store the event, answer after commit."""
    body = await _read_limited(request, deps)
    try:
        deps.verifier.verify(body, request.headers.get("stripe-signature"))
    except WebhookRejected as exc:
        raise _reject(deps, status.HTTP_400_BAD_REQUEST, exc.reason, f"invalid signature: {exc}") from None
    deps.metrics.webhook_verified.inc()
    try:
        event = parse_event(body)
    except InvalidEvent as exc:
        raise _reject(deps, status.HTTP_400_BAD_REQUEST, "bad_body", str(exc)) from None
    try:
        note = await services.record_stripe_event(body, event, deps)
    except StripeUnavailable as exc:  # Stripe redelivers later; nothing was stored
        log.warning("stripe event %s (%s) deferred: %s", event.id, event.type, exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Stripe unreachable, retry later") from None
    return WebhookReceived(received=True, id=event.id, note=note)
