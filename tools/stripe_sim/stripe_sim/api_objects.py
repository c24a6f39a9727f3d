"""stripe_sim /v1 events, refunds, payment intents and charges."""

import fnmatch
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from stripe_sim import charges
from stripe_sim.errors import invalid
from stripe_sim.forms import get_range, get_str, get_str_list
from stripe_sim.http import post, read_params, require_api_key
from stripe_sim.runtime import sim_of
from stripe_sim.store import Origin, paginate

Obj = dict[str, Any]
MAX_TYPES = 20  # Stripe's limit on `types`
router = APIRouter(prefix="/v1", tags=["objects"], dependencies=[Depends(require_api_key)])


@router.get("/events")
async def list_events(request: Request) -> Obj:
    """List events, newest first; `type` (one name, or a group with `*`: `checkout.session.*`) or
    `types[]` (up to 20 exact names), and `created` (a time, or `[gt]`/`[gte]`/`[lt]`/`[lte]`)."""
    sim, params = sim_of(request), await read_params(request)
    pattern, names = get_str(params, "type"), get_str_list(params, "types")
    if pattern and names:
        raise invalid("types", "You may pass either type or types, but not both.")
    if len(names) > MAX_TYPES:
        raise invalid("types", f"You may pass at most {MAX_TYPES} event types in types.")
    created = get_range(params, "created")

    def keep(event: Obj) -> bool:
        if pattern is not None and not fnmatch.fnmatchcase(event["type"], pattern):
            return False
        return (not names or event["type"] in names) and created(event["created"])

    with sim.store.lock:
        events = list(reversed(sim.store.events.values()))
        return paginate(events, params, "/v1/events", "event", keep)


@router.get("/events/{event_id}")
async def retrieve_event(event_id: str, request: Request) -> Obj:
    """Retrieve an event."""
    sim = sim_of(request)
    return sim.store.get(sim.store.events, "event", event_id)


@router.post("/refunds")
async def create_refund(request: Request) -> JSONResponse:
    """Refund a PaymentIntent's charge, fully or partly."""
    sim = sim_of(request)

    def action(params: Obj, origin: Origin) -> Obj:
        return charges.create_refund(sim.store, params, origin, sim.refund_status)

    return await post(request, action)


@router.get("/refunds")
async def list_refunds(request: Request) -> Obj:
    """List refunds, newest first; filters payment_intent and charge."""
    sim, params = sim_of(request), await read_params(request)
    wanted = {k: get_str(params, k) for k in ("payment_intent", "charge")}
    with sim.store.lock:
        refunds = [
            r
            for r in reversed(sim.store.refunds.values())
            if all(v is None or r[k] == v for k, v in wanted.items())
        ]
        return paginate(refunds, params, "/v1/refunds", "refund")


@router.get("/refunds/{refund_id}")
async def retrieve_refund(refund_id: str, request: Request) -> Obj:
    """Retrieve a refund."""
    sim = sim_of(request)
    return sim.store.get(sim.store.refunds, "refund", refund_id)


@router.get("/payment_intents/{pi_id}")
async def retrieve_payment_intent(pi_id: str, request: Request) -> Obj:
    """Retrieve a PaymentIntent."""
    sim = sim_of(request)
    return sim.store.get(sim.store.payment_intents, "payment_intent", pi_id, param="intent")


@router.get("/charges/{charge_id}")
async def retrieve_charge(charge_id: str, request: Request) -> Obj:
    """Retrieve a charge."""
    sim = sim_of(request)
    return sim.store.get(sim.store.charges, "charge", charge_id, param="charge")
