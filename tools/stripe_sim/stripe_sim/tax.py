"""stripe_sim tax: Tax Rates (create, retrieve) and the tax they put on a Checkout Session's lines.

Like Stripe's manual tax rates (`line_items[][tax_rates][]`): a rate is `inclusive` (already in the
price: EU consumer prices) or added on top. Per line, the inclusive rates' net is the amount divided
by (1 + their percentages), each rate's tax is the net times its percentage, rounded half up to the
minor unit; exclusive tax raises the line's and the session's `amount_total`. The session keeps the
per-rate sums for `total_details.breakdown` (returned when expanded, as Stripe does).
Stripe Tax (`automatic_tax`) computes rates from registrations and the customer's address: not modelled.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from stripe_sim import params as accepted
from stripe_sim.errors import StripeError, invalid, parameter_missing, resource_missing
from stripe_sim.forms import check_known, get_bool, get_metadata, get_str, get_str_list, path
from stripe_sim.shapes import build, new_id, now

if TYPE_CHECKING:
    from stripe_sim.store import Store

Obj = dict[str, Any]
_STATIC: Obj = {
    "object": "tax_rate",
    "flat_amount": None,
    "jurisdiction_level": None,
    "livemode": False,
    "rate_type": "percentage",
}
_STRINGS = ("country", "description", "jurisdiction", "state", "tax_type")


def create_tax_rate(store: Store, params: Obj) -> Obj:
    """POST /v1/tax_rates."""
    check_known(params, accepted.TAX_RATE_CREATE)
    name = get_str(params, "display_name", required=True)
    inclusive = get_bool(params, "inclusive")
    if inclusive is None:
        raise parameter_missing("inclusive")
    percentage = _percentage(get_str(params, "percentage", required=True) or "")
    rate = build(
        _STATIC,
        {
            "id": new_id("txr"),
            "active": get_bool(params, "active") is not False,
            "created": now(),
            "display_name": name,
            "effective_percentage": float(percentage),
            "inclusive": inclusive,
            "metadata": get_metadata(params),
            "percentage": float(percentage),
            **{key: get_str(params, key) for key in _STRINGS},
        },
    )
    with store.lock:
        store.tax_rates[rate["id"]] = rate
    return rate


def _percentage(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid("percentage", f"Invalid decimal: {text}", "parameter_invalid_decimal") from None
    if not (0 <= value <= 100) or not value.is_finite():
        raise invalid("percentage", "The percentage must be between 0 and 100.")
    return value


def line_rates(store: Store, raw: Obj, name: str) -> list[Obj]:
    """The active Tax Rates a line item names (`tax_rates[]`), or Stripe's error for an unknown one."""
    rates = []
    for index, rate_id in enumerate(get_str_list(raw, "tax_rates")):
        with store.lock:
            rate = store.tax_rates.get(rate_id)
        if rate is None:
            raise resource_missing("tax_rate", rate_id, param=path(name, "tax_rates", index), status=400)
        if not rate["active"]:
            raise invalid(path(name, "tax_rates", index), f"Tax rate {rate_id} is not active.")
        rates.append(rate)
    return rates


def line_taxes(amount: int, rates: list[Obj]) -> list[Obj]:
    """Each rate's tax on a line of `amount` minor units: [{rate id, amount, taxable_amount}]."""
    included = sum((Decimal(str(r["percentage"])) for r in rates if r["inclusive"]), Decimal(0))
    net = Decimal(amount) / (1 + included / 100)
    taxable = int(net.quantize(Decimal(1), ROUND_HALF_UP))
    return [
        {
            "rate": r["id"],
            "amount": int((net * Decimal(str(r["percentage"])) / 100).quantize(Decimal(1), ROUND_HALF_UP)),
            "taxable_amount": taxable,
            "inclusive": r["inclusive"],
        }
        for r in rates
    ]


def breakdown(rates: dict[str, Obj], taxes: list[Obj]) -> Obj:
    """`total_details.breakdown` of a session: the taxes summed per rate, each with its Tax Rate."""
    by_rate: dict[str, Obj] = {}
    for tax in taxes:
        known = by_rate.setdefault(tax["rate"], {"amount": 0, "taxable_amount": 0})
        known["amount"] += tax["amount"]
        known["taxable_amount"] += tax["taxable_amount"]
    return {
        "discounts": [],
        "taxes": [
            {
                "amount": sums["amount"],
                "rate": dict(rates[rate_id]),
                "taxability_reason": None,
                "taxable_amount": sums["taxable_amount"],
            }
            for rate_id, sums in by_rate.items()
        ],
    }


def refuse_automatic_tax(params: Obj) -> None:
    data = params.get("automatic_tax")
    if isinstance(data, dict) and get_bool(data, "enabled", "automatic_tax[enabled]"):
        message = (
            "The local Stripe stand-in does not compute Stripe Tax (automatic_tax); "
            "give line_items[][tax_rates] instead."
        )
        raise StripeError(400, message, code="parameter_invalid", param="automatic_tax[enabled]")
