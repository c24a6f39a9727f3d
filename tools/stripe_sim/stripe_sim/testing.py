"""stripe_sim test helpers: run the stand-in (or any ASGI app) in-process on a free port."""

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from stripe_sim.app import create_app
from stripe_sim.runtime import Sim
from stripe_sim.settings import DEFAULT_API_KEY, Settings
from stripe_sim.webhooks import ssl_context

Obj = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class RunningSim:
    """A served stand-in: the SDK goes to `base_url` with `api_key`; webhooks verify with `webhook_secret`."""

    settings: Settings
    app: FastAPI
    base_url: str
    api_key: str = DEFAULT_API_KEY

    @property
    def sim(self) -> Sim:
        sim = self.app.state.sim
        assert isinstance(sim, Sim)
        return sim

    @property
    def webhook_secret(self) -> str:
        return self.settings.signing_secret

    async def pay(self, session_id: str, outcome: str = "succeeded", email: str | None = None) -> Obj:
        """POST /_sim/checkout/sessions/{id}/pay; returns the session."""
        data = {"outcome": outcome} | ({"email": email} if email else {})
        return await self._call("POST", f"/_sim/checkout/sessions/{session_id}/pay", data=data)

    async def settle_refund(self, refund_id: str, outcome: str, failure_reason: str | None = None) -> Obj:
        """POST /_sim/refunds/{id}/settle: `succeeded`, `failed` or `canceled`; returns the refund."""
        data = {"outcome": outcome} | ({"failure_reason": failure_reason} if failure_reason else {})
        return await self._call("POST", f"/_sim/refunds/{refund_id}/settle", data=data)

    async def configure(self, **changes: Any) -> Obj:
        """POST /_sim/config, e.g. `configure(chaos=True, webhook_url=url)`."""
        return await self._call("POST", "/_sim/config", json=changes)

    async def set_webhooks(self, enabled: bool) -> Obj:
        """POST /_sim/webhooks: pause (False) or resume (True) webhook delivery."""
        return await self._call("POST", "/_sim/webhooks", data={"enabled": "1" if enabled else "0"})

    async def deliveries(self, event_id: str | None = None) -> list[Obj]:
        params = {"event_id": event_id} if event_id else {}
        body = await self._call("GET", "/_sim/deliveries", params=params)
        return list(body["data"])

    async def _call(self, method: str, path: str, **kwargs: Any) -> Obj:
        async with httpx.AsyncClient(base_url=self.base_url, verify=ssl_context()) as client:
            response = await client.request(method, path, **kwargs)
        response.raise_for_status()
        body = response.json()
        assert isinstance(body, dict)
        return body


def bind_free_port(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on the running loop; yields its base url.

    Drives uvicorn's startup/shutdown steps directly instead of `serve()`: no signal handlers are
    installed and stopping takes no 0.1 s tick, which keeps per-test servers cheap.
    """
    sock = sock or bind_free_port()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=2)
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    try:
        await server.startup(sockets=[sock])
        if server.should_exit or not server.started:
            raise RuntimeError(f"uvicorn failed to start {app!r}")
        yield f"http://{host}:{port}"
    finally:
        if server.started:
            await server.shutdown(sockets=[sock])
        sock.close()


@contextlib.asynccontextmanager
async def running_sim(settings: Settings | None = None, port: int = 0) -> AsyncIterator[RunningSim]:
    """Run a fresh stand-in on 127.0.0.1 (a free port unless `port`); its hosted page urls use that port."""
    base = settings or Settings()
    sock = bind_free_port(base.stripe_sim_host, port)
    chosen = base.model_copy(update={"stripe_sim_port": sock.getsockname()[1]})
    app = create_app(chosen)
    async with serving(app, sock) as url:
        yield RunningSim(chosen, app, url)


@contextlib.contextmanager
def in_thread(make: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter `make()` on its own event loop in a thread, e.g. `in_thread(lambda: running_sim(s))`.

    For sync code (or the sync SDK called from async tests) that must not block the server's loop.
    """
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"], box["loop"] = stop, asyncio.get_running_loop()
        try:
            async with make() as value:
                box["value"] = value
                started.set()
                await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            started.set()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="stripe-sim", daemon=True)
    thread.start()
    started.wait(30)
    if "error" in box:
        raise RuntimeError("server thread failed to start") from box["error"]
    try:
        yield box["value"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(30)
