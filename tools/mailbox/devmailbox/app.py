"""devmailbox: the web app factory (pages and JSON API over one store)."""

from __future__ import annotations

from fastapi import FastAPI

from devmailbox import api, web
from devmailbox.faults import FaultSwitch
from devmailbox.store import MessageStore


def create_app(store: MessageStore, faults: FaultSwitch | None = None) -> FastAPI:
    app = FastAPI(title="devmailbox", summary="Dev-only SMTP mailbox")
    app.state.store = store
    app.state.faults = faults if faults is not None else FaultSwitch()
    app.include_router(api.router)
    app.include_router(web.router)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    return app


async def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}
