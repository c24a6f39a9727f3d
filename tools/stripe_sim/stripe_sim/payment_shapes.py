"""stripe_sim payment shapes: PaymentIntent, Charge and Refund objects as Stripe sends them."""

import copy
from typing import Any

from stripe_sim.shapes import build, list_object, new_id, now

Obj = dict[str, Any]

_PI_STATIC: Obj = {
    "object": "payment_intent",
    "amount_capturable": 0,
    "amount_details": {"tip": {}},
    "amount_received": 0,
    "application": None,
    "application_fee_amount": None,
    "automatic_payment_methods": None,
    "canceled_at": None,
    "cancellation_reason": None,
    "capture_method": "automatic_async",
    "confirmation_method": "automatic",
    "customer": None,
    "description": None,
    "last_payment_error": None,
    "latest_charge": None,
    "livemode": False,
    "next_action": None,
    "on_behalf_of": None,
    "payment_method_options": {},
    "processing": None,
    "receipt_email": None,
    "review": None,
    "setup_future_usage": None,
    "shipping": None,
    "source": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "status": "processing",
    "transfer_data": None,
    "transfer_group": None,
}
_CHARGE_STATIC: Obj = {
    "object": "charge",
    "amount_refunded": 0,
    "application": None,
    "application_fee": None,
    "application_fee_amount": None,
    "calculated_statement_descriptor": "PAYBUS",
    "captured": True,
    "customer": None,
    "description": None,
    "disputed": False,
    "failure_balance_transaction": None,
    "failure_code": None,
    "failure_message": None,
    "fraud_details": {},
    "livemode": False,
    "on_behalf_of": None,
    "outcome": {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    },
    "paid": False,
    "receipt_number": None,
    "receipt_url": None,
    "refunded": False,
    "review": None,
    "shipping": None,
    "source_transfer": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "status": "pending",
    "transfer_data": None,
    "transfer_group": None,
}
_ADDRESS: Obj = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}
_METHOD_DETAILS: Obj = {
    "card": {
        "brand": "visa",
        "country": "US",
        "exp_month": 12,
        "exp_year": 2034,
        "funding": "credit",
        "last4": "4242",
        "network": "visa",
        "three_d_secure": None,
        "wallet": None,
    },
    "sepa_debit": {  # Stripe's test IBAN DE89 3704 0044 0532 0130 00
        "bank_code": "37040044",
        "branch_code": None,
        "country": "DE",
        "expected_debit_date": None,
        "fingerprint": "paybusSimSepaFp1",
        "last4": "3000",
        "mandate": None,  # each charge's own, set below
    },
    "us_bank_account": {
        "account_holder_type": "individual",
        "account_type": "checking",
        "bank_name": "STRIPE TEST BANK",
        "last4": "6789",
        "routing_number": "110000000",
    },
}


def payment_intent(amount: int, currency: str, method_type: str, metadata: dict[str, str]) -> Obj:
    pi_id = new_id("pi")
    return build(
        _PI_STATIC,
        {
            "id": pi_id,
            "amount": amount,
            "client_secret": f"{pi_id}_secret_{new_id('x')[2:]}",
            "created": now(),
            "currency": currency,
            "metadata": metadata,
            "payment_method": new_id("pm"),
            "payment_method_types": [method_type],
        },
    )


def delayed_method(currency: str) -> str:
    """The delayed (bank debit) method a customer pays a session in `currency` with: SEPA in euros."""
    return "sepa_debit" if currency == "eur" else "us_bank_account"


def _charge_details(method_type: str) -> Obj:
    details: Obj = copy.deepcopy(_METHOD_DETAILS[method_type])
    if method_type == "sepa_debit":
        details["mandate"] = new_id("mandate")  # a debit runs on the customer's mandate
    return details


def charge(pi: Obj, email: str | None) -> Obj:
    """The Charge of a PaymentIntent, pending until settled."""
    ch_id, method_type = new_id("ch"), pi["payment_method_types"][0]
    return build(
        _CHARGE_STATIC,
        {
            "id": ch_id,
            "amount": pi["amount"],
            "amount_captured": pi["amount"],
            "balance_transaction": new_id("txn"),
            "billing_details": {"address": dict(_ADDRESS), "email": email, "name": None, "phone": None},
            "created": now(),
            "currency": pi["currency"],
            "metadata": dict(pi["metadata"]),
            "payment_intent": pi["id"],
            "payment_method": pi["payment_method"],
            "receipt_email": email,
            "payment_method_details": {"type": method_type, method_type: _charge_details(method_type)},
            "refunds": list_object([], f"/v1/charges/{ch_id}/refunds"),
        },
    )


_PM_DETAILS_ONLY_ON_CHARGES = {"network", "three_d_secure", "mandate", "expected_debit_date"}


def payment_method(ch: Obj) -> Obj:
    """The PaymentMethod a charge used, whole, as a failed PaymentIntent's `last_payment_error` has it."""
    method_type = ch["payment_method_details"]["type"]
    details = {k: v for k, v in _METHOD_DETAILS[method_type].items() if k not in _PM_DETAILS_ONLY_ON_CHARGES}
    if method_type == "sepa_debit":
        details["generated_from"] = None
    return {
        "id": ch["payment_method"],
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": copy.deepcopy(ch["billing_details"]) | {"tax_id": None},
        "created": ch["created"],
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": method_type,
        method_type: details,
    }


def refund(
    ch: Obj, amount: int, reason: str | None, metadata: dict[str, str], status: str = "succeeded"
) -> Obj:
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": ch["id"],
        "created": now(),
        "currency": ch["currency"],
        "destination_details": {"type": ch["payment_method_details"]["type"]},
        "metadata": metadata,
        "payment_intent": ch["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
