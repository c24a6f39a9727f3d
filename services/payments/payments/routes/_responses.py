"""payments: the answers routes document beside their success (OpenAPI `responses=`), in one place."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


class Detail(BaseModel):
    detail: str


# Checked before the route runs (runtime's limits, FastAPI's body parsing).
BODY_ERRORS: Responses = {
    400: {"description": "The body is not valid JSON", "content": {"application/json": {"schema": {}}}},
    408: {"model": Detail, "description": "The body did not arrive in time"},
    413: {"model": Detail, "description": "The body is larger than this route accepts"},
}
NOT_FOUND: Responses = {404: {"model": Detail, "description": "No such checkout session"}}
