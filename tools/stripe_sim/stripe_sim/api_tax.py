"""stripe_sim /v1/tax_rates: create, retrieve and list the Tax Rates line items name."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from stripe_sim import tax
from stripe_sim.http import post, read_params, require_api_key
from stripe_sim.runtime import sim_of
from stripe_sim.store import Origin, paginate

Obj = dict[str, Any]
router = APIRouter(prefix="/v1/tax_rates", tags=["tax"], dependencies=[Depends(require_api_key)])


@router.post("")
async def create_tax_rate(request: Request) -> JSONResponse:
    """Create a Tax Rate (`inclusive` in the price, or added on top)."""
    sim = sim_of(request)

    def action(params: Obj, origin: Origin) -> Obj:
        return tax.create_tax_rate(sim.store, params)

    return await post(request, action)


@router.get("")
async def list_tax_rates(request: Request) -> Obj:
    """List Tax Rates, newest first."""
    sim, params = sim_of(request), await read_params(request)
    with sim.store.lock:
        rates = list(reversed(sim.store.tax_rates.values()))
        return paginate(rates, params, "/v1/tax_rates", "tax_rate")


@router.get("/{rate_id}")
async def retrieve_tax_rate(rate_id: str, request: Request) -> Obj:
    """Retrieve a Tax Rate."""
    sim = sim_of(request)
    return sim.store.get(sim.store.tax_rates, "tax_rate", rate_id)
