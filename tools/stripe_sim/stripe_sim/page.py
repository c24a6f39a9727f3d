"""stripe_sim hosted checkout page: pay by card, with a delayed method, or cancel; no JavaScript."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from stripe_sim.checkout import Outcome
from stripe_sim.errors import StripeError
from stripe_sim.money import format_amount
from stripe_sim.runtime import Sim, sim_of
from stripe_sim.store import AUTOMATIC, SessionRecord

Obj = dict[str, Any]
router = APIRouter(prefix="/pay", tags=["hosted page"])
_env = Environment(loader=PackageLoader("stripe_sim", "templates"), autoescape=select_autoescape())
_OUTCOMES: dict[str, Outcome] = {
    "card": "succeeded",
    "delayed_succeeded": "delayed_succeeded",
    "delayed_failed": "delayed_failed",
}
_CLOSED = {
    "expired": "This checkout session has expired. Go back to the shop to start a new payment.",
    "complete": "This checkout session is already complete: the payment was submitted.",
}


def render(
    title: str, message: str | None = None, record: SessionRecord | None = None, status: int = 200
) -> HTMLResponse:
    context: Obj = {"title": title, "message": message, "payable": False}
    if record is not None:
        session = record.obj
        currency = session["currency"]
        context |= {
            "items": [
                {
                    "description": li["description"],
                    "quantity": li["quantity"],
                    "amount": format_amount(li["amount_total"], currency),
                }
                for li in record.line_items
            ],
            "total": format_amount(session["amount_total"], currency),
            "payable": session["status"] == "open" and not message,
            "email": session["customer_email"],
            "action": f"/pay/{session['id']}",
        }
    return HTMLResponse(_env.get_template("checkout.html").render(context), status_code=status)


def _find(sim: Sim, session_id: str) -> SessionRecord | None:
    try:
        return sim.store.session(session_id)
    except StripeError:
        return None


@router.get("/{session_id}", response_class=HTMLResponse)
async def show_page(session_id: str, request: Request) -> HTMLResponse:
    """The hosted Checkout page of a session."""
    record = _find(sim_of(request), session_id)
    if record is None:
        return render("Checkout session not found", "No such checkout session.", status=404)
    closed = _CLOSED.get(record.obj["status"])
    return render("Checkout", closed, record)


@router.post("/{session_id}")
async def submit_page(
    session_id: str, request: Request, action: Annotated[str, Form()], email: Annotated[str, Form()] = ""
) -> Response:
    """The page's buttons: pay (card / delayed succeeds / delayed fails) or cancel."""
    sim = sim_of(request)
    record = _find(sim, session_id)
    if record is None:
        return render("Checkout session not found", "No such checkout session.", status=404)
    if action == "cancel":
        url = record.obj["cancel_url"]
        return RedirectResponse(url, 303) if url else render("Payment canceled", "You canceled the payment.")
    outcome = _OUTCOMES.get(action)
    if outcome is None:
        return render("Checkout", f"Unknown action {action!r}.", record, status=400)
    try:
        sim.pay(record, outcome, email.strip() or None, AUTOMATIC)
    except StripeError:
        return render(
            "Checkout", _CLOSED.get(record.obj["status"], "This session cannot be paid."), record, 409
        )
    url = record.obj["success_url"]
    if url:
        return RedirectResponse(url.replace("{CHECKOUT_SESSION_ID}", session_id), 303)
    return render("Payment submitted", "Thank you: your payment was submitted.", record)
