"""gateway dependencies: the Deps the lifespan (or a test) builds, and their FastAPI aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gateway.upstreams import Upstreams


@dataclass(frozen=True)
class Deps:
    upstreams: Upstreams


async def get_deps(request: Request) -> Deps:
    deps = request.app.state.deps
    assert isinstance(deps, Deps), "create_app's lifespan sets app.state.deps"
    return deps


async def get_upstreams(request: Request) -> Upstreams:
    # async, like get_deps: FastAPI would run a plain def in its thread pool, once per request.
    return (await get_deps(request)).upstreams


DepsDep = Annotated[Deps, Depends(get_deps)]
UpstreamsDep = Annotated[Upstreams, Depends(get_upstreams)]
