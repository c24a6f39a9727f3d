"""gateway: the AsyncAPI document of the public exchanges and event schemas (ARCHITECTURE.md)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter

from messaging import asyncapi

router = APIRouter(tags=["events"])


@cache
def _document() -> dict[str, Any]:
    return asyncapi.document()  # built from the code's topology and event models, once per process


@router.get("/asyncapi.json")
async def get_asyncapi() -> dict[str, Any]:
    """AsyncAPI 3.0 document of the public exchanges (payments.events, payments.broadcast, orders.events)."""
    return _document()
