"""devmailbox: FastAPI dependencies for the store and the fault switch kept on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from devmailbox.faults import FaultSwitch
from devmailbox.store import MessageStore


async def get_store(request: Request) -> MessageStore:
    store: MessageStore = request.app.state.store
    return store


async def get_faults(request: Request) -> FaultSwitch:
    faults: FaultSwitch = request.app.state.faults
    return faults


StoreDep = Annotated[MessageStore, Depends(get_store)]
FaultsDep = Annotated[FaultSwitch, Depends(get_faults)]
