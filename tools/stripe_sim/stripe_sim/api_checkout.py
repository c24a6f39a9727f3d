"""stripe_sim /v1/checkout/sessions: create, retrieve, list, expire and line items."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from stripe_sim import checkout
from stripe_sim.forms import get_expand, get_str
from stripe_sim.http import post, read_params, require_api_key
from stripe_sim.runtime import sim_of
from stripe_sim.store import Origin, paginate

Obj = dict[str, Any]
router = APIRouter(prefix="/v1/checkout/sessions", tags=["checkout"], dependencies=[Depends(require_api_key)])


@router.post("")
async def create_session(request: Request) -> JSONResponse:
    """Create a Checkout Session."""
    sim = sim_of(request)

    def action(params: Obj, origin: Origin) -> Obj:
        record = checkout.create_session(sim.store, params, sim.rules, origin)
        return sim.store.render_session(record, get_expand(params))

    return await post(request, action)


@router.get("")
async def list_sessions(request: Request) -> Obj:
    """List Checkout Sessions, newest first; filters payment_intent, status, customer_details[email]."""
    sim, params = sim_of(request), await read_params(request)
    wanted = {k: get_str(params, k) for k in ("payment_intent", "status", "client_reference_id")}
    details = params.get("customer_details")
    email = get_str(details, "email", "customer_details[email]") if isinstance(details, dict) else None
    expand = {e.removeprefix("data.") for e in get_expand(params)}
    with sim.store.lock:
        records = [
            r
            for r in reversed(sim.store.sessions.values())
            if all(v is None or r.obj[k] == v for k, v in wanted.items())
            and (email is None or (r.obj["customer_details"] or {}).get("email") == email)
        ]
        items = [sim.store.render_session(r, expand) for r in records]
    return paginate(items, params, "/v1/checkout/sessions", "checkout.session")


@router.get("/{session_id}")
async def retrieve_session(session_id: str, request: Request) -> Obj:
    """Retrieve a Checkout Session (`expand[]=line_items`, `expand[]=payment_intent`)."""
    sim, params = sim_of(request), await read_params(request)
    return sim.store.render_session(sim.store.session(session_id), get_expand(params))


@router.post("/{session_id}/expire")
async def expire_session(session_id: str, request: Request) -> JSONResponse:
    """Expire an open Checkout Session."""
    sim = sim_of(request)

    def action(params: Obj, origin: Origin) -> Obj:
        record = sim.store.session(session_id)
        checkout.expire(sim.store, record, origin)
        return sim.store.render_session(record, get_expand(params))

    return await post(request, action)


@router.get("/{session_id}/line_items")
async def list_line_items(session_id: str, request: Request) -> Obj:
    """A Checkout Session's line items."""
    sim, params = sim_of(request), await read_params(request)
    record = sim.store.session(session_id)
    url = f"/v1/checkout/sessions/{session_id}/line_items"
    with sim.store.lock:
        return paginate(list(record.line_items), params, url, "item")
