"""stripe_sim /_sim: scripted payment, delivery log and run-time config for tests (not Stripe's API)."""

import dataclasses
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field

from stripe_sim import charges
from stripe_sim.checkout import OUTCOMES, Outcome
from stripe_sim.errors import invalid
from stripe_sim.http import request_id
from stripe_sim.runtime import sim_of
from stripe_sim.store import Origin

Obj = dict[str, Any]
router = APIRouter(prefix="/_sim", tags=["sim"])


class ConfigUpdate(BaseModel):
    """Fields to change; `webhook_url` null or "" turns delivery off."""

    model_config = ConfigDict(extra="forbid")
    chaos: bool | None = None
    chaos_max_delay: float | None = Field(default=None, ge=0)
    webhook_url: str | None = None
    events: str | None = None
    retry_base: float | None = Field(default=None, ge=0)
    retry_max: float | None = Field(default=None, ge=0)
    max_attempts: int | None = Field(default=None, ge=0)
    async_payment_delay: float | None = Field(default=None, ge=0)
    refund_status: Literal["succeeded", "pending"] | None = None  # where new refunds start


@router.post("/checkout/sessions/{session_id}/pay")
async def pay_session(
    session_id: str, request: Request, outcome: Annotated[str, Form()], email: Annotated[str, Form()] = ""
) -> Obj:
    """Pay like the hosted page does (`succeeded`, `delayed_succeeded`, `delayed_failed`); no redirect."""
    sim = sim_of(request)
    if outcome not in OUTCOMES:
        raise invalid("outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
    record = sim.store.session(session_id)
    chosen: Outcome = next(o for o in OUTCOMES if o == outcome)
    sim.pay(record, chosen, email.strip() or None, Origin(request_id(request)))
    return sim.store.render_session(record, ())


@router.post("/refunds/{refund_id}/settle")
async def settle_refund(
    refund_id: str,
    request: Request,
    outcome: Annotated[str, Form()],
    failure_reason: Annotated[str, Form()] = "",
) -> Obj:
    """A refund's later news: a pending one `succeeded`, `failed` or `canceled`; a succeeded one
    `failed` (Stripe's refunds can fail after succeeding), with `failure_reason`."""
    sim = sim_of(request)
    if outcome not in charges.REFUND_OUTCOMES:
        raise invalid("outcome", f"outcome must be one of {', '.join(charges.REFUND_OUTCOMES)}")
    return charges.settle_refund(
        sim.store, refund_id, outcome, failure_reason.strip() or None, Origin(request_id(request))
    )


@router.post("/webhooks")
async def switch_webhooks(request: Request, enabled: Annotated[str, Form()]) -> Obj:
    """`enabled=0` pauses webhook delivery (events are still created and listed, with
    `pending_webhooks: 1`), `enabled=1` resumes it: what was held goes out in order, then retries."""
    if enabled not in _SWITCH:
        raise invalid("enabled", "enabled must be 0 or 1")
    sim = sim_of(request)
    sim.dispatcher.set_enabled(_SWITCH[enabled])
    return {"webhooks_enabled": sim.dispatcher.enabled}


_SWITCH = {"0": False, "1": True}


@router.get("/deliveries")
async def list_deliveries(request: Request, event_id: str | None = None, type: str | None = None) -> Obj:
    """Every webhook delivery (one per copy) with its attempts and their HTTP status."""
    data = [
        d
        for d in sim_of(request).dispatcher.deliveries()
        if (event_id is None or d["event_id"] == event_id) and (type is None or d["event_type"] == type)
    ]
    return {"object": "list", "data": data}


@router.get("/config")
async def get_config(request: Request) -> Obj:
    """The current webhook and timing config."""
    sim = sim_of(request)
    config = dataclasses.asdict(sim.dispatcher.config)
    config.pop("secret")
    return config | {
        "async_payment_delay": sim.async_payment_delay,
        "refund_status": sim.refund_status,
        "webhooks_enabled": sim.dispatcher.enabled,
    }


@router.post("/config")
async def set_config(update: ConfigUpdate, request: Request) -> Obj:
    """Change the config at run time (chaos switch, webhook url, retry timing, async delay)."""
    sim = sim_of(request)
    changes = update.model_dump(exclude_unset=True)
    if "async_payment_delay" in changes:
        sim.async_payment_delay = changes.pop("async_payment_delay")
    if "refund_status" in changes:
        sim.refund_status = changes.pop("refund_status") or "succeeded"
    if "webhook_url" in changes:
        changes["url"] = changes.pop("webhook_url") or None
    for name, value in changes.items():
        if value is not None or name == "url":
            setattr(sim.dispatcher.config, name, value)
    return await get_config(request)
