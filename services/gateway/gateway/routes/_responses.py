"""gateway: the answers routes document beside their success (OpenAPI `responses=`), in one place."""

from __future__ import annotations

from typing import Any

from gateway.models import ErrorBody

Responses = dict[int | str, dict[str, Any]]
_HTML: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
_ANY_JSON: dict[str, Any] = {"application/json": {"schema": {}}}

UPSTREAM_ERRORS: Responses = {
    502: {"model": ErrorBody, "description": "A service answered something unexpected"},
    503: {"model": ErrorBody, "description": "A service is unreachable"},
    504: {"model": ErrorBody, "description": "A service did not answer in time"},
}
# Checked before the route runs (runtime's limits, FastAPI's body parsing).
BODY_ERRORS: Responses = {
    400: {"description": "The body is not valid JSON or form data", "content": _ANY_JSON},
    408: {"model": ErrorBody, "description": "The body did not arrive in time"},
    413: {"model": ErrorBody, "description": "The body is larger than the gateway accepts"},
}
# Page routes: a browser (Accept: text/html) gets an error page, a program the JSON error body.
PAGE_UPSTREAM_ERRORS: Responses = {
    code: {"description": spec["description"], "content": {**_HTML, "application/json": {"schema": {}}}}
    for code, spec in UPSTREAM_ERRORS.items()
}
PAGE_BODY_ERRORS: Responses = {
    code: {"description": spec["description"], "content": {**_HTML, "application/json": {"schema": {}}}}
    for code, spec in BODY_ERRORS.items()
}


def page(code: int, description: str) -> Responses:
    """An HTML page answered with `code`."""
    return {code: {"description": description, "content": _HTML}}
