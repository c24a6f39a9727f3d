"""stripe_sim charges: paying a session (card or delayed method), settling it, and refunds."""

import copy
from collections.abc import Callable
from typing import Any

from stripe_sim import params as accepted
from stripe_sim import payment_shapes, shapes
from stripe_sim.checkout import Outcome
from stripe_sim.errors import StripeError, invalid, resource_missing
from stripe_sim.forms import check_known, get_int, get_metadata, get_str
from stripe_sim.money import format_amount
from stripe_sim.store import AUTOMATIC, Origin, SessionRecord, Store

Obj = dict[str, Any]
Settle = Callable[[], None]
REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


def pay(
    store: Store, record: SessionRecord, outcome: Outcome, email: str | None, origin: Origin
) -> Settle | None:
    """Complete an open session; for delayed methods returns the step that settles the payment later."""
    with store.lock:
        session = record.obj
        if session["status"] != "open":
            raise StripeError(
                400,
                f"This Checkout Session is no longer open (status `{session['status']}`).",
                code="checkout_session_not_open",
            )
        email = email or session["customer_email"]
        method = "card" if outcome == "succeeded" else payment_shapes.delayed_method(session["currency"])
        pi = payment_shapes.payment_intent(
            session["amount_total"], session["currency"], method, record.pi_metadata
        )
        ch = payment_shapes.charge(pi, email)
        pi.update(status="requires_payment_method")
        store.payment_intents[pi["id"]], store.charges[ch["id"]] = pi, ch
        store.emit("payment_intent.created", pi, origin)
        pi.update(latest_charge=ch["id"], status="processing")
        session.update(
            status="complete",
            payment_intent=pi["id"],
            customer_details=shapes.customer_details(email),
            url=None,
        )
        if outcome == "succeeded":
            _succeed(store, pi, ch, origin)
            session["payment_status"] = "paid"
            store.emit("checkout.session.completed", session, origin)
            return None
        store.emit("charge.pending", ch, origin)
        store.emit("payment_intent.processing", pi, origin)
        store.emit("checkout.session.completed", session, origin)
        return lambda: settle(store, record, outcome == "delayed_succeeded")


def _succeed(store: Store, pi: Obj, ch: Obj, origin: Origin) -> None:
    ch.update(status="succeeded", paid=True)
    pi.update(status="succeeded", amount_received=pi["amount"])
    store.emit("charge.succeeded", ch, origin)
    store.emit("payment_intent.succeeded", pi, origin)


def settle(store: Store, record: SessionRecord, succeeded: bool) -> None:
    """The delayed method's result: checkout.session.async_payment_succeeded or ..._failed."""
    with store.lock:
        session = record.obj
        pi = store.payment_intents[session["payment_intent"]]
        ch = store.charges[pi["latest_charge"]]
        if succeeded:
            _succeed(store, pi, ch, AUTOMATIC)
            session["payment_status"] = "paid"
            store.emit("checkout.session.async_payment_succeeded", session, AUTOMATIC)
            return
        _fail(ch, pi)
        store.emit("charge.failed", ch, AUTOMATIC)
        store.emit("payment_intent.payment_failed", pi, AUTOMATIC)
        store.emit("checkout.session.async_payment_failed", session, AUTOMATIC)


def _fail(ch: Obj, pi: Obj) -> None:
    message = "The customer's account has insufficient funds to cover this payment."
    ch.update(
        status="failed",
        paid=False,
        failure_code="insufficient_funds",
        failure_message=message,
        outcome={
            "network_status": "declined_by_network",
            "reason": "insufficient_funds",
            "risk_level": "normal",
            "seller_message": message,
            "type": "issuer_declined",
        },
    )
    error = {
        "type": "card_error",
        "code": "insufficient_funds",
        "message": message,
        "charge": ch["id"],
        "payment_method": payment_shapes.payment_method(ch),
        "payment_method_type": pi["payment_method_types"][0],
    }
    pi.update(status="requires_payment_method", last_payment_error=error)


def create_refund(store: Store, params: Obj, origin: Origin, status: str = "succeeded") -> Obj:
    """POST /v1/refunds: full or partial, never more than what is left on the charge. `status` is
    where new refunds start (`succeeded`, or `pending` to settle them later by `settle_refund`)."""
    check_known(params, accepted.REFUND_CREATE)
    reason = get_str(params, "reason")
    if reason is not None and reason not in REASONS:
        raise invalid(
            "reason", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer"
        )
    metadata = get_metadata(params)
    with store.lock:
        ch = _charge_to_refund(store, params)
        remaining = ch["amount"] - ch["amount_refunded"]
        amount = _refund_amount(params, ch, remaining)
        refund = payment_shapes.refund(ch, amount, reason, metadata, status)
        store.refunds[refund["id"]] = refund
        previous = {"amount_refunded": ch["amount_refunded"]}
        ch["amount_refunded"] += amount
        if ch["amount_refunded"] == ch["amount"]:
            previous["refunded"], ch["refunded"] = False, True
        ch["refunds"]["data"].insert(0, refund)
        store.emit("refund.created", refund, origin)
        store.emit("charge.refunded", ch, origin, previous)
        return refund


def _charge_to_refund(store: Store, params: Obj) -> Obj:
    pi_id, ch_id = get_str(params, "payment_intent"), get_str(params, "charge")
    if pi_id is None and ch_id is None:
        message = "One of the following params should be provided for this request: payment_intent or charge."
        raise StripeError(400, message, code="parameter_missing")
    if pi_id is not None:
        pi = store.get(store.payment_intents, "payment_intent", pi_id, param="payment_intent", status=400)
        ch_id = pi["latest_charge"]
        if ch_id is None:
            raise StripeError(
                400,
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
    assert ch_id is not None
    ch = store.charges.get(ch_id)
    if ch is None:
        raise resource_missing("charge", ch_id, param="charge", status=400)
    if ch["status"] != "succeeded":
        raise StripeError(
            400,
            f"Charge {ch_id} has not succeeded (status `{ch['status']}`) and cannot be refunded.",
            code="charge_not_refundable",
        )
    return ch


def _refund_amount(params: Obj, ch: Obj, remaining: int) -> int:
    if remaining == 0:
        raise StripeError(
            400, f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = get_int(params, "amount")
    if amount is None:
        return remaining
    if amount <= 0:
        raise invalid("amount", "Invalid positive integer", "parameter_invalid_integer")
    if amount > remaining:
        message = (
            f"Refund amount ({format_amount(amount, ch['currency'])}) is greater than unrefunded amount "
            f"on charge ({format_amount(remaining, ch['currency'])})"
        )
        raise StripeError(400, message, code="amount_too_large", param="amount")
    return amount


REFUND_OUTCOMES = ("succeeded", "failed", "canceled")
# Stripe's refund lifecycle: pending (or requires_action) settles; a succeeded refund can still fail.
_SETTLES = {"pending": REFUND_OUTCOMES, "requires_action": REFUND_OUTCOMES, "succeeded": ("failed",)}


def settle_refund(
    store: Store, refund_id: str, outcome: str, failure_reason: str | None, origin: Origin
) -> Obj:
    """A refund's later news, as Stripe sends it: refund.updated (and refund.failed), then
    charge.refund.updated; a failed or canceled refund gives its amount back to the charge."""
    with store.lock:
        refund = store.refunds.get(refund_id)
        if refund is None:
            raise resource_missing("refund", refund_id, param="refund")
        if outcome not in _SETTLES.get(refund["status"], ()):
            raise invalid("outcome", f"a {refund['status']} refund cannot become {outcome}")
        previous = {"status": refund["status"], "failure_reason": refund.get("failure_reason")}
        refund["status"] = outcome
        if outcome == "failed":
            refund["failure_reason"] = failure_reason or "expired_or_canceled_card"
            refund["failure_balance_transaction"] = shapes.new_id("txn")
        ch = store.charges[refund["charge"]]
        if outcome in ("failed", "canceled"):
            ch["amount_refunded"] -= refund["amount"]
            ch["refunded"] = False
        # ch["refunds"] lists the same refund objects: they show the new status too
        store.emit("refund.updated", refund, origin, previous)
        if outcome == "failed":
            store.emit("refund.failed", refund, origin, previous)
        store.emit("charge.refund.updated", refund, origin, previous)
        return copy.deepcopy(refund)
