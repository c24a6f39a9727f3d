"""stripe_sim runtime: the Sim object that routes share (store, idempotency, webhooks, timers)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import Request

from stripe_sim import charges, checkout, shapes
from stripe_sim.checkout import CreateRules, Outcome
from stripe_sim.idempotency import IdempotencyCache
from stripe_sim.settings import Settings
from stripe_sim.store import Origin, SessionRecord, Store
from stripe_sim.webhooks import Dispatcher, WebhookConfig

log = logging.getLogger(__name__)


class Sim:
    """One running stand-in: its objects, webhook dispatcher and background jobs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dispatcher = Dispatcher(WebhookConfig.from_settings(settings))
        self.store = Store(self.dispatcher)
        self.dispatcher.on_delivered = self.store.delivered
        self.idempotency = IdempotencyCache()
        self.async_payment_delay = settings.stripe_sim_async_payment_delay
        self.refund_status = "succeeded"  # where new refunds start; POST /_sim/config changes it
        self._timers: dict[object, asyncio.TimerHandle] = {}

    @property
    def rules(self) -> CreateRules:
        return CreateRules(self.settings.public_url, self.settings.stripe_sim_min_expires_in)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Lifespan: webhook delivery and the expiry sweep run while the app serves."""
        await self.dispatcher.start()
        sweeper = asyncio.create_task(self._sweep())
        try:
            yield
        finally:
            sweeper.cancel()
            for timer in self._timers.values():
                timer.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            await self.dispatcher.aclose()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stripe_sim_expiry_interval)
            try:
                checkout.expire_due(self.store, shapes.now())
            except Exception:  # keep sweeping whatever one pass hit
                log.exception("expiry sweep failed")

    def pay(self, record: SessionRecord, outcome: Outcome, email: str | None, origin: Origin) -> None:
        """Pay an open session; a delayed method settles after `async_payment_delay` (0: at once)."""
        checkout.expire_if_due(self.store, record, shapes.now())  # the sweep may not have come by yet
        settle = charges.pay(self.store, record, outcome, email, origin)
        if settle is not None:
            self._later(self.async_payment_delay, settle)

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        if delay <= 0:
            action()
            return
        key = object()

        def fire() -> None:
            self._timers.pop(key, None)
            try:
                action()
            except Exception:  # a timer must not take the loop down
                log.exception("scheduled step failed")

        self._timers[key] = asyncio.get_running_loop().call_later(delay, fire)


def sim_of(request: Request) -> Sim:
    sim = request.app.state.sim
    assert isinstance(sim, Sim)
    return sim
