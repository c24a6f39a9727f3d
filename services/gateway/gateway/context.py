"""gateway request context: the request id of the request being served, for logs and upstream calls."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# Set by the RequestContext middleware for each request; upstream calls carry it on.
request_id: ContextVar[str] = ContextVar("request_id", default="-")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    """The caller's id if short and of safe characters (it lands in logs and headers), else a new one."""
    if value is not None and _SAFE_ID.fullmatch(value):
        return value
    return new_request_id()
