"""Error answers every service's routes document beside their success (OpenAPI `responses=`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


class Detail(BaseModel):
    detail: str


def body_errors(limit: str = "this route accepts") -> Responses:
    """What is checked before a route runs: the runtime's body limit and read timeout, JSON parsing."""
    return {
        400: {"description": "The body is not valid JSON", "content": {"application/json": {"schema": {}}}},
        408: {"model": Detail, "description": "The body did not arrive in time"},
        413: {"model": Detail, "description": f"The body is larger than {limit}"},
    }


def not_found(what: str) -> Responses:
    return {404: {"model": Detail, "description": f"No such {what}"}}
