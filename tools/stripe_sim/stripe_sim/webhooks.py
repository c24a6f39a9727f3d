"""stripe_sim webhooks: Stripe-signed deliveries with retries, backoff and an optional chaos mode."""

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from stripe_sim.settings import Settings

Obj = dict[str, Any]
log = logging.getLogger(__name__)
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """Built once per process: loading CA certificates costs ~0.1 s per client otherwise."""
    return ssl.create_default_context()


def signature_header(secret: str, payload: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` value: `t=<unix>,v1=<hex HMAC-SHA256(secret, "t.payload")>`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class WebhookConfig:
    """Delivery knobs, changeable at run time through POST /_sim/config."""

    url: str | None
    secret: str
    events: str = "*"
    chaos: bool = False
    chaos_max_delay: float = 1.0
    retry_base: float = 1.0
    retry_max: float = 60.0
    max_attempts: int = 0
    timeout: float = 10.0
    concurrency: int = 1  # first attempts in flight at once; 1 keeps event order, as tests like it

    @classmethod
    def from_settings(cls, s: Settings) -> "WebhookConfig":
        return cls(
            url=s.webhook_url,
            secret=s.signing_secret,
            events=s.stripe_sim_webhook_events,
            chaos=s.stripe_sim_chaos,
            chaos_max_delay=s.stripe_sim_chaos_max_delay,
            retry_base=s.stripe_sim_retry_base,
            retry_max=s.stripe_sim_retry_max,
            max_attempts=s.stripe_sim_max_attempts,
            timeout=s.stripe_sim_webhook_timeout,
            concurrency=s.stripe_sim_webhook_concurrency,
        )

    def wants(self, event_type: str) -> bool:
        for pattern in (p.strip() for p in self.events.split(",")):
            if pattern == "*" or pattern == event_type:
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


@dataclass
class Attempt:
    at: float
    status: int | None
    error: str | None = None


@dataclass
class Delivery:
    """One copy of one event on its way to the endpoint (chaos mode makes several copies)."""

    event_id: str
    event_type: str
    url: str
    copy: int
    attempts: list[Attempt] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False


class Dispatcher:
    """Delivers events: each copy in its own task, retried with capped exponential backoff until a 2xx."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._queue: asyncio.Queue[tuple[Delivery, str]] | None = None
        self._resumed: asyncio.Event | None = None  # set while delivery is enabled (POST /_sim/webhooks)
        self.on_delivered: Callable[[str], None] | None = None  # event id: its first 2xx

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._resumed = asyncio.Event()
        self._resumed.set()
        pool = max(10, self.config.concurrency)
        limits = httpx.Limits(max_connections=pool * 2, max_keepalive_connections=pool)
        self._client = httpx.AsyncClient(follow_redirects=False, verify=ssl_context(), limits=limits)
        self._queue = asyncio.Queue()
        for _ in range(max(1, self.config.concurrency)):
            self._spawn(self._first_attempts())

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def wants(self, event_type: str) -> bool:
        return self.config.url is not None and self.config.wants(event_type)

    @property
    def enabled(self) -> bool:
        return self._resumed is None or self._resumed.is_set()

    def set_enabled(self, enabled: bool) -> None:
        """Pause (attempts wait, first ones and retries alike) or resume delivery; call on the loop."""
        assert self._resumed is not None, "start() first"
        if enabled:
            self._resumed.set()
        else:
            self._resumed.clear()
        log.info("webhook delivery %s", "resumed" if enabled else "paused")

    def submit(self, event: Obj) -> None:
        """Schedule delivery; safe to call from any thread."""
        url, loop = self.config.url, self._loop
        if url is None or loop is None:
            return
        body = json.dumps(event, indent=2)
        copies = random.randint(2, 3) if self.config.chaos else 1
        for n in range(copies):
            delivery = Delivery(event["id"], event["type"], url, n)
            with self._lock:
                self._deliveries.append(delivery)
            loop.call_soon_threadsafe(self._start, delivery, body)

    def deliveries(self) -> list[Obj]:
        with self._lock:
            return [asdict(d) for d in self._deliveries]

    def _start(self, delivery: Delivery, body: str) -> None:
        if self.config.chaos:
            delay = random.uniform(0, self.config.chaos_max_delay)
            self._spawn(self._deliver(delivery, body, delay))
        elif self._queue is not None:
            self._queue.put_nowait((delivery, body))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _first_attempts(self) -> None:
        """Without chaos, `concurrency` of these take first attempts from one queue: with one, they go
        out one by one in event order; with more, concurrently and unordered, as Stripe sends them.
        Retries go on aside."""
        assert self._queue is not None
        while True:
            delivery, body = await self._queue.get()
            if not await self._attempt(delivery, body):
                self._spawn(self._retry(delivery, body))

    async def _deliver(self, delivery: Delivery, body: str, delay: float) -> None:
        await asyncio.sleep(delay)
        if not await self._attempt(delivery, body):
            await self._retry(delivery, body)

    async def _retry(self, delivery: Delivery, body: str) -> None:
        cfg = self.config
        while not cfg.max_attempts or len(delivery.attempts) < cfg.max_attempts:
            await asyncio.sleep(min(cfg.retry_max, cfg.retry_base * 2 ** (len(delivery.attempts) - 1)))
            if await self._attempt(delivery, body):
                return
        delivery.gave_up = True
        log.warning(
            "webhook %s for %s: gave up after %s attempts",
            delivery.event_type,
            delivery.event_id,
            len(delivery.attempts),
        )

    async def _attempt(self, delivery: Delivery, body: str) -> bool:
        assert self._client is not None
        assert self._resumed is not None
        await self._resumed.wait()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Accept": "*/*; q=0.5, application/xml",
            "Cache-Control": "no-cache",
            "Stripe-Signature": signature_header(self.config.secret, body),
        }
        status, error = None, None
        try:
            response = await self._client.post(
                delivery.url, content=body.encode(), headers=headers, timeout=self.config.timeout
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery.attempts.append(Attempt(time.time(), status, error))
        delivery.delivered = status is not None and 200 <= status < 300
        if delivery.delivered and self.on_delivered is not None:
            self.on_delivered(delivery.event_id)
        if not delivery.delivered:
            log.info(
                "webhook %s for %s to %s: %s",
                delivery.event_type,
                delivery.event_id,
                delivery.url,
                status or error,
            )
        return delivery.delivered
