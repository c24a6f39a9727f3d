"""stripe_sim checkout: creating Checkout Sessions and moving them through payment and expiry."""

from dataclasses import dataclass
from typing import Any, Literal

from stripe_sim import params as accepted
from stripe_sim import shapes, tax
from stripe_sim.errors import StripeError, invalid, resource_missing
from stripe_sim.forms import (
    check_known,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_metadata,
    get_str,
    get_str_list,
    path,
)
from stripe_sim.store import AUTOMATIC, Origin, SessionRecord, Store

Obj = dict[str, Any]
Outcome = Literal["succeeded", "delayed_succeeded", "delayed_failed"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "delayed_succeeded", "delayed_failed")

MAX_EXPIRES_IN = 24 * 3600


@dataclass(frozen=True)
class CreateRules:
    public_url: str
    min_expires_in: int


def create_session(store: Store, params: Obj, rules: CreateRules, origin: Origin) -> SessionRecord:
    """POST /v1/checkout/sessions in payment mode with ad-hoc `price_data` line items."""
    check_known(params, accepted.SESSION_CREATE)
    _check_mode(params)
    check_known(get_dict(params, "automatic_tax") or {}, accepted.AUTOMATIC_TAX, "automatic_tax")
    tax.refuse_automatic_tax(params)
    created = shapes.now()
    raw_items = get_list(params, "line_items", required=True)
    lines = [_line_item(store, raw, i, created) for i, raw in enumerate(raw_items)]
    items, taxes = [item for item, _ in lines], [t for _, line_taxes in lines for t in line_taxes]
    currencies = {item["currency"] for item in items}
    if len(currencies) > 1:
        raise invalid("line_items", "All line items must use the same currency.")
    session_id = shapes.new_id("cs_test", 58)
    fields = {
        "id": session_id,
        "created": created,
        "currency": items[0]["currency"],
        "amount_subtotal": sum(item["amount_subtotal"] for item in items),
        "amount_total": sum(item["amount_total"] for item in items),
        "total_details": {
            "amount_discount": 0,
            "amount_shipping": 0,
            "amount_tax": sum(t["amount"] for t in taxes),
        },
        "expires_at": _expires_at(params, created, rules.min_expires_in),
        "client_reference_id": _limited(params, "client_reference_id", 200),
        "customer_email": get_str(params, "customer_email"),
        "metadata": get_metadata(params),
        "success_url": get_str(params, "success_url"),
        "cancel_url": get_str(params, "cancel_url"),
        "payment_method_types": get_str_list(params, "payment_method_types") or ["card"],
        "locale": get_str(params, "locale"),
        "submit_type": get_str(params, "submit_type"),
        "adaptive_pricing": {"enabled": _adaptive_pricing(params)},
        "url": f"{rules.public_url}/pay/{session_id}",
    }
    record = SessionRecord(shapes.session(fields), items, _pi_metadata(params), taxes)
    with store.lock:
        store.sessions[session_id] = record
    return record


def _check_mode(params: Obj) -> None:
    mode = get_str(params, "mode", required=True)
    if mode not in ("payment", "setup", "subscription"):
        raise invalid("mode", f"Invalid mode: must be one of payment, setup, or subscription (got {mode}).")
    if mode != "payment":
        raise invalid("mode", f"The local Stripe stand-in supports only mode=payment, not {mode}.")
    ui_mode = get_str(params, "ui_mode")
    if ui_mode is not None and ui_mode not in accepted.UI_MODES:
        choices = ", ".join(accepted.UI_MODES[:-1]) + f", or {accepted.UI_MODES[-1]}"
        raise invalid("ui_mode", f"Invalid ui_mode: must be one of {choices}")
    if ui_mode not in (None, "hosted_page"):
        raise invalid("ui_mode", "The local Stripe stand-in supports only ui_mode=hosted_page.")


def _adaptive_pricing(params: Obj) -> bool:
    """Echoed on the session like Stripe does; the stand-in never converts currencies."""
    data = get_dict(params, "adaptive_pricing") or {}
    check_known(data, accepted.ADAPTIVE_PRICING, "adaptive_pricing")
    return get_bool(data, "enabled", "adaptive_pricing[enabled]") or False


def _line_item(store: Store, raw: Any, index: int, created: int) -> tuple[Obj, list[Obj]]:
    """The line item and the tax its `tax_rates` put on it."""
    name = path("line_items", index)
    if not isinstance(raw, dict):
        raise invalid(name, f"Invalid object: {name} must be a hash")
    check_known(raw, accepted.LINE_ITEM, name)
    if "price" in raw:
        raise resource_missing("price", str(raw["price"]), param=path(name, "price"), status=400)
    price_data = get_dict(raw, "price_data", path(name, "price_data"), required=True)
    assert price_data is not None
    pd_name = path(name, "price_data")
    check_known(price_data, accepted.PRICE_DATA, pd_name)
    currency = get_str(price_data, "currency", path(pd_name, "currency"), required=True)
    unit_amount = get_int(price_data, "unit_amount", path(pd_name, "unit_amount"), required=True)
    quantity = get_int(raw, "quantity", path(name, "quantity"), required=True)
    assert currency is not None
    assert unit_amount is not None
    assert quantity is not None
    if unit_amount < 0:
        raise invalid(path(pd_name, "unit_amount"), "This value must be greater than or equal to 0.")
    if quantity < 1:
        raise invalid(path(name, "quantity"), "This value must be greater than or equal to 1.")
    taxes = tax.line_taxes(unit_amount * quantity, tax.line_rates(store, raw, name))
    item = shapes.line_item(
        currency.lower(), unit_amount, quantity, _product_name(price_data, pd_name), created, taxes
    )
    return item, taxes


def _product_name(price_data: Obj, pd_name: str) -> str:
    product = get_str(price_data, "product", path(pd_name, "product"))
    product_data = get_dict(price_data, "product_data", path(pd_name, "product_data"), required=not product)
    if product_data is None:
        return str(product)
    check_known(product_data, accepted.PRODUCT_DATA, path(pd_name, "product_data"))
    name = get_str(product_data, "name", path(pd_name, "product_data", "name"), required=True)
    return str(name)


def _expires_at(params: Obj, created: int, min_expires_in: int) -> int:
    expires_at = get_int(params, "expires_at")
    if expires_at is None:
        return created + MAX_EXPIRES_IN
    if expires_at - created < min_expires_in:
        message = "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
        raise invalid("expires_at", message)
    if expires_at - created > MAX_EXPIRES_IN:
        message = "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
        raise invalid("expires_at", message)
    return expires_at


def _limited(params: Obj, key: str, length: int) -> str | None:
    value = get_str(params, key)
    if value is not None and len(value) > length:
        raise invalid(key, f"Invalid {key}: must be at most {length} characters")
    return value


def _pi_metadata(params: Obj) -> dict[str, str]:
    data = get_dict(params, "payment_intent_data") or {}
    check_known(data, accepted.PAYMENT_INTENT_DATA, "payment_intent_data")
    return get_metadata(data, "metadata")


def expire(store: Store, record: SessionRecord, origin: Origin) -> None:
    """Expire an open session (API call or background sweep) and emit checkout.session.expired."""
    with store.lock:
        obj = record.obj
        if obj["status"] != "open":
            message = (
                f"Only Checkout Sessions with a status of `open` can be expired. "
                f"This Checkout Session has a status of `{obj['status']}`."
            )
            raise StripeError(400, message)
        obj.update(status="expired", url=None)
        store.emit("checkout.session.expired", obj, origin)


def expire_if_due(store: Store, record: SessionRecord, now: int) -> bool:
    """Expire this one session if it is open and past expires_at (checked before paying it)."""
    with store.lock:
        if record.obj["status"] == "open" and record.obj["expires_at"] <= now:
            expire(store, record, AUTOMATIC)
            return True
    return False


def expire_due(store: Store, now: int) -> int:
    """Expire every open session whose expires_at has passed; returns how many."""
    with store.lock:
        return sum(expire_if_due(store, record, now) for record in list(store.sessions.values()))
