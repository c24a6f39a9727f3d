"""runtime: the service credential: internal APIs answer only callers presenting SERVICE_TOKEN.

Routers of internal routes are included with `dependencies=SERVICE_TOKEN_REQUIRED` and
`responses=UNAUTHORIZED`; the health router is not (probes and Prometheus come without a token).
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.params import Depends as DependsParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

log = logging.getLogger(__name__)

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceToken",
    description="`Authorization: Bearer $SERVICE_TOKEN`: the credential the gateway presents",
)
MESSAGE = "missing or invalid service token: send Authorization: Bearer $SERVICE_TOKEN"


class Unauthorized(BaseModel):
    detail: str


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": Unauthorized, "description": "no valid `Authorization: Bearer $SERVICE_TOKEN`"}
}


def protect(app: FastAPI, token: str | None) -> None:
    """Set the token an app's internal routes require; unset, they refuse every caller (fail closed)."""
    if not token:
        log.error("SERVICE_TOKEN is unset: every internal route answers 401")
    app.state.service_token = token.encode() if token else None


async def require_service_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected = getattr(request.app.state, "service_token", None)
    given = credentials.credentials.encode() if credentials is not None else b""
    # compare_digest runs in time independent of where the bytes differ
    if not isinstance(expected, bytes) or not hmac.compare_digest(given, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, MESSAGE, headers={"WWW-Authenticate": "Bearer"})


SERVICE_TOKEN_REQUIRED: list[DependsParam] = [Depends(require_service_token)]
