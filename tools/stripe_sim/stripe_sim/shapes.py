"""stripe_sim object shapes: ids, lists, Checkout Sessions, line items and events as Stripe sends them."""

import copy
import secrets
import string
import time
from collections.abc import Sequence
from typing import Any

Obj = dict[str, Any]

API_VERSION = "2026-10-28.endive"  # what the official SDK v16 pins
_ALPHABET = string.ascii_letters + string.digits

# Fields of a payment-mode session the sim never changes (Stripe's defaults for what we do not support).
_SESSION_STATIC: Obj = {
    "object": "checkout.session",
    "adaptive_pricing": {"enabled": False},
    "after_expiration": None,
    "allow_promotion_codes": None,
    "billing_address_collection": None,
    "client_secret": None,
    "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
    "collected_information": None,
    "consent": None,
    "consent_collection": None,
    "currency_conversion": None,
    "custom_fields": [],
    "customer": None,
    "customer_creation": "if_required",
    "customer_details": None,
    "custom_text": {
        "after_submit": None,
        "shipping_address": None,
        "submit": None,
        "terms_of_service_acceptance": None,
    },
    "discounts": [],
    "invoice": None,
    "livemode": False,
    "mode": "payment",
    "origin_context": None,
    "invoice_creation": {
        "enabled": False,
        "invoice_data": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": None,
            "metadata": {},
            "rendering_options": None,
        },
    },
    "payment_intent": None,
    "payment_link": None,
    "payment_method_collection": "if_required",
    "payment_method_configuration_details": None,
    "payment_method_options": {},
    "payment_status": "unpaid",
    "permissions": None,
    "phone_number_collection": {"enabled": False},
    "recovered_from": None,
    "saved_payment_method_options": None,
    "setup_intent": None,
    "shipping_address_collection": None,
    "shipping_cost": None,
    "shipping_options": [],
    "status": "open",
    "subscription": None,
    "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    "ui_mode": "hosted_page",
    "wallet_options": None,
}
_PRICE_STATIC: Obj = {
    "object": "price",
    "active": False,
    "billing_scheme": "per_unit",
    "custom_unit_amount": None,
    "livemode": False,
    "lookup_key": None,
    "metadata": {},
    "nickname": None,
    "recurring": None,
    "tax_behavior": "unspecified",
    "tiers_mode": None,
    "transform_quantity": None,
    "type": "one_time",
}


def new_id(prefix: str, length: int = 24) -> str:
    """Stripe-like ids: `evt_1Q...`, `cs_test_a1...`."""
    # one urandom call per id (a choice per character cost more than the rest of a request)
    return f"{prefix}_" + "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in secrets.token_bytes(length))


def now() -> int:
    return int(time.time())


def build(static: Obj, fields: Obj) -> Obj:
    """`static` defaults plus `fields`, keyed like Stripe's JSON: id, object, then alphabetical."""
    merged = copy.deepcopy(static) | fields
    head = {k: merged.pop(k) for k in ("id", "object") if k in merged}
    return head | dict(sorted(merged.items()))


def list_object(data: list[Obj], url: str, has_more: bool = False) -> Obj:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def session(fields: Obj) -> Obj:
    """A Checkout Session in payment mode; `fields` holds what the create call decided."""
    return build(_SESSION_STATIC, {"amount_subtotal": fields["amount_total"]} | fields)


def line_item(
    currency: str, unit_amount: int, quantity: int, name: str, created: int, taxes: Sequence[Obj] = ()
) -> Obj:
    """A Checkout line item (`object: item`) with its ad-hoc Price; `taxes` from tax.line_taxes."""
    price = build(
        _PRICE_STATIC,
        {
            "id": new_id("price"),
            "created": created,
            "currency": currency,
            "product": new_id("prod", 14),
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        },
    )
    amount = unit_amount * quantity
    added = sum(t["amount"] for t in taxes if not t["inclusive"])
    return {
        "id": new_id("li"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": sum(t["amount"] for t in taxes),
        "amount_total": amount + added,
        "currency": currency,
        "description": name,
        "price": price,
        "quantity": quantity,
    }


def customer_details(email: str | None) -> Obj:
    return {"address": None, "email": email, "name": None, "phone": None, "tax_exempt": "none", "tax_ids": []}


def event(type_: str, obj: Obj, request: Obj, previous: Obj | None, pending_webhooks: int) -> Obj:
    data: Obj = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": request,
        "type": type_,
    }
