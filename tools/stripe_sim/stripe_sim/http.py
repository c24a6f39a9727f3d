"""stripe_sim HTTP helpers: API key check, form/query decoding and idempotent POST handling."""

import base64
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from stripe_sim.errors import StripeError
from stripe_sim.forms import decode
from stripe_sim.runtime import sim_of
from stripe_sim.store import Origin

Obj = dict[str, Any]
Action = Callable[[Obj, Origin], Obj]

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
    "authentication for details, or we can help at https://support.stripe.com/."
)


def require_api_key(request: Request) -> str:
    """Any `sk_test_` key is accepted, as Bearer or Basic auth; the key is kept on request.state."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    key = value.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except ValueError:
            key = ""
    if not key:
        raise StripeError(401, NO_KEY)
    if not key.startswith("sk_test_"):
        masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
        raise StripeError(401, f"Invalid API Key provided: {masked}")
    request.state.api_key = key
    return key


async def read_params(request: Request) -> Obj:
    """Query string plus form body, decoded with Stripe's nested-key rules."""
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        form = await request.form()
        pairs += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return decode(pairs)


def request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


async def post(request: Request, action: Action) -> JSONResponse:
    """Run a POST, replaying the saved result when its Idempotency-Key was seen with the same params."""
    params = await read_params(request)
    key = request.headers.get("idempotency-key")
    origin = Origin(request_id(request), key)
    if not key:
        return JSONResponse(action(params, origin))
    scope = (str(getattr(request.state, "api_key", "")), key)
    saved, replayed = sim_of(request).idempotency.run(
        scope, request.url.path, params, origin.request_id, lambda: action(params, origin)
    )
    response = JSONResponse(saved.body, status_code=saved.status, headers={"Idempotency-Key": key})
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
        if saved.request_id:
            response.headers["Original-Request"] = saved.request_id
    return response
