"""stripe_sim app factory: create_app(settings) wires routes, errors, headers and the lifespan."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from stripe_sim import api_checkout, api_objects, page, shapes, sim_routes
from stripe_sim.errors import StripeError, unrecognized_url
from stripe_sim.http import request_id
from stripe_sim.runtime import Sim
from stripe_sim.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """A fresh stand-in with its own in-memory state; nothing runs until the app is served."""
    sim = Sim(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with sim.running():
            yield

    app = FastAPI(
        title="stripe-sim", description="Local Stripe stand-in (dev and tests only)", lifespan=lifespan
    )
    app.state.sim = sim
    for module in (api_checkout, api_objects, page, sim_routes):
        app.include_router(module.router)
    app.add_exception_handler(StripeError, _stripe_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.middleware("http")(_stripe_headers)
    return app


async def _stripe_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    request.state.request_id = shapes.new_id("req", 14)
    response = await call_next(request)
    response.headers["Request-Id"] = request.state.request_id
    response.headers["Stripe-Version"] = shapes.API_VERSION
    return response


async def _stripe_error(request: Request, exc: StripeError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Stripe"'} if exc.status == 401 else None
    return JSONResponse(exc.body(request_id(request)), status_code=exc.status, headers=headers)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code in (404, 405):
        error = unrecognized_url(request.method, request.url.path)
    else:
        error = StripeError(exc.status_code, str(exc.detail))
    return await _stripe_error(request, error)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    param = str(first.get("loc", ["", ""])[-1])
    message = f"Invalid {param}: {first.get('msg', 'invalid value')}"
    code = "parameter_missing" if first.get("type") == "missing" else "parameter_invalid"
    return await _stripe_error(request, StripeError(400, message, code=code, param=param))
