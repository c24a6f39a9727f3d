"""connect(), publish(), consume(): the only aio-pika code of paybus, with confirms and retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aio_pika.connection import make_url

from messaging._consumer import Consumer, Permanent
from messaging._deadline import Deadlines
from messaging._declare import declare_plan
from messaging._wire import (
    BrokerUnavailable,
    Handler,
    Handlers,
    Meta,
    PublishFailed,
    PublishRefused,
    Stats,
    Unroutable,
    message,
    meta_of,
)
from messaging.event import Envelope, event_type
from messaging.observe import UNOBSERVED, Observer
from messaging.topology import (
    DEFAULT,
    TOPOLOGY,
    Queue,
    Topology,
    delay_exchange,
    delay_routing_key,
)

__all__ = [
    "Broker",
    "BrokerUnavailable",
    "Consumer",
    "Handler",
    "Handlers",
    "Permanent",
    "PublishFailed",
    "PublishRefused",
    "Publisher",
    "Stats",
    "Unroutable",
    "connect",
    "message",
]

log = logging.getLogger(__name__)
D = TypeVar("D")


class _NotConnected(ConnectionError):
    """The robust connection is between connections: publish again once it is back."""


_TRANSIENT = (
    aiormq.exceptions.AMQPConnectionError,
    aiormq.exceptions.ChannelInvalidStateError,
    aiormq.exceptions.ChannelClosed,
    asyncio.TimeoutError,
    ConnectionError,
)


class Publisher(Protocol):
    """The port services depend on; Broker is the real one, testing.InMemoryBroker the fake."""

    async def publish(self, envelope: Envelope[Any], *, headers: Mapping[str, Any] | None = None) -> None: ...

    async def send(self, envelope: Envelope[Any], queue: Queue, *, delay: float = 0.0) -> None: ...


class Broker:
    """One robust connection per process, a confirm channel for publishing, consumers on their own."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        channel: AbstractChannel,
        *,
        topology: Topology,
        prefix: str,
        user: str,
        max_in_flight: int,
        publish_timeout: float,
        retry_for: float,
    ) -> None:
        self.connection = connection
        self.topology = topology
        self.prefix = prefix
        self.user = user  # set as every message's user_id: consumers know who published
        self.stats = Stats()
        self.observer: Observer = UNOBSERVED  # a process exporting metrics puts its own here
        self._channel = channel
        self._window = asyncio.Semaphore(max_in_flight)
        self._deadlines = Deadlines(publish_timeout)
        self._retry_for = retry_for
        self._exchanges: dict[str, AbstractExchange] = {}
        self._heal_lock = asyncio.Lock()
        self._outage_since: float | None = None  # loop time of the first failed publish of an outage

    async def declare(self) -> None:
        """Declare the whole topology (idempotent)."""
        channel = await self.connection.channel()  # a short-lived channel: nothing to restore later
        try:
            await declare_plan(channel, self.topology.plan(self.prefix))
        finally:
            await channel.close()

    async def publish(self, envelope: Envelope[Any], *, headers: Mapping[str, Any] | None = None) -> None:
        """Publish an event to every exchange its route names; return once each is confirmed."""
        await self.publish_body(envelope.model_dump_json().encode(), meta_of(envelope), headers)

    async def send(self, envelope: Envelope[Any], queue: Queue, *, delay: float = 0.0) -> None:
        """Put a message straight into a queue, now or after `delay` seconds (never earlier)."""
        await self.send_body(queue, envelope.model_dump_json().encode(), meta_of(envelope), delay=delay)

    async def publish_body(self, body: bytes, meta: Meta, headers: Mapping[str, Any] | None = None) -> None:
        """Publish an encoded envelope (from the outbox) to the exchanges of its type's route."""
        model = event_type(meta["type"])
        if model is None:
            raise LookupError(f"unknown event type {meta['type']!r}")
        for exchange in self.topology.exchanges_for(model):
            await self.publish_raw(self.prefix + exchange.name, meta["type"], body, meta, headers)

    async def send_body(
        self,
        queue: Queue,
        body: bytes,
        meta: Meta,
        *,
        delay: float = 0.0,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """Put an encoded envelope into a queue, now or after `delay` seconds (never earlier)."""
        target = self.prefix + queue.name
        if delay <= 0:  # through the owner's exchange: no service may write to the default exchange
            await self.publish_raw(self.prefix + queue.internal_exchange, target, body, meta, headers)
            return
        if not queue.scheduled:
            raise ValueError(f"queue {queue.name} is not declared scheduled=True")
        seconds = math.ceil(delay)
        if seconds > self.topology.max_delay:
            raise ValueError(f"delay {delay}s exceeds the maximum of {self.topology.max_delay}s")
        levels = self.topology.delay_levels
        exchange = delay_exchange(self.prefix, levels - 1)
        key = delay_routing_key(levels, seconds, target)
        await self.publish_raw(exchange, key, body, meta, {**(headers or {}), "x-deliver-after": seconds})

    async def publish_raw(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        meta: Meta,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """Publish with confirm and mandatory; retry through connection losses until `retry_for`."""
        msg = message(
            body,
            message_id=meta["message_id"],
            type=meta["type"],
            correlation_id=meta["correlation_id"],
            timestamp=meta.get("timestamp"),
            headers=headers,
            user_id=self.user,
        )
        async with self._window:
            await self._publish_confirmed(exchange, routing_key, msg)
        self.stats.published += 1

    async def _publish_confirmed(self, exchange: str, routing_key: str, msg: aio_pika.Message) -> None:
        deadline: float | None = None  # set at the first failure: the common path reads no clock
        pause = 0.05
        while True:
            try:
                if self._channel.is_closed:
                    await self._reopen_channel()
                target = self._exchanges.get(exchange) or await self._exchange(exchange)
                task = self._deadlines.arm()  # not publish(timeout=...): that arms a timer per message
                try:
                    await target.publish(msg, routing_key, mandatory=True)
                except asyncio.CancelledError:
                    self._deadlines.raise_if_expired(task)
                    raise
                finally:
                    self._deadlines.disarm(task)
                if self._outage_since is not None:
                    self._outage_ended()
                return
            except aiormq.exceptions.PublishError as exc:
                raise Unroutable(f"unroutable: exchange={exchange!r} routing_key={routing_key!r}") from exc
            except aiormq.exceptions.DeliveryError as exc:
                raise PublishFailed(f"broker refused the message: {exc}") from exc
            except aiormq.exceptions.ChannelNotFoundEntity as exc:
                raise Unroutable(f"no such exchange {exchange!r}") from exc
            except aiormq.exceptions.ChannelAccessRefused as exc:
                raise PublishRefused(f"not allowed to publish to {exchange!r}: {exc}") from exc
            except _TRANSIENT as exc:
                now = asyncio.get_running_loop().time()
                deadline = now + self._retry_for if deadline is None else deadline
                if now + pause > deadline:
                    raise BrokerUnavailable(f"not confirmed within {self._retry_for}s: {exc!r}") from exc
                self.stats.publish_retries += 1
                if self._outage_since is None:  # one line an outage, not one per message and retry
                    self._outage_since = now
                    log.warning(
                        "publishing paused: %r; retrying each message for %.0fs", exc, self._retry_for
                    )
                log.debug("publish to %r failed (%r); retrying in %.2fs", exchange, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _outage_ended(self) -> None:
        since, self._outage_since = self._outage_since, None
        if since is not None:
            down = asyncio.get_running_loop().time() - since
            log.warning(
                "publishing resumed after %.1fs (%d retries so far)", down, self.stats.publish_retries
            )

    async def _reopen_channel(self) -> None:
        """Open a new confirm channel when the old one is closed and the connection is up.

        aio-pika restores channels on reconnect, but a restore racing a forced close can leave the
        channel closed for good. Every step here is bounded: opening a channel while the connection
        is still restoring its others used to wait forever, which wedged every publisher behind the
        lock (the relay sat silent for minutes after a broker restart). A failure is transient: the
        caller retries until its `retry_for` and then reports the broker unavailable.
        """
        if not self.connection.connected.is_set() or self.connection.is_closed:
            raise _NotConnected("the broker connection is down; aio-pika is reconnecting")
        async with asyncio.timeout(self._deadlines.timeout):
            async with self._heal_lock:
                if not self._channel.is_closed:
                    return
                log.warning("publish channel is closed while the connection is up; opening a new one")
                old, self._channel = (
                    self._channel,
                    await self.connection.channel(publisher_confirms=True, on_return_raises=True),
                )
                self._exchanges.clear()
        with contextlib.suppress(Exception):
            await old.close()

    @property
    def connected(self) -> bool:
        """The connection is up (aio-pika reconnects it in the background when it is not)."""
        return self.connection.connected.is_set() and not self.connection.is_closed

    def is_ready(self) -> bool:
        """The connection is up and the publish channel open."""
        return self.connected and not self._channel.is_closed

    async def ready(self) -> None:
        """Readiness check: raises BrokerUnavailable while the connection is down; reopens a publish
        channel that stayed closed (a process that seldom publishes would otherwise never heal it)."""
        if not self.connected:
            raise BrokerUnavailable("broker connection is down; reconnecting")
        if self._channel.is_closed:
            try:
                await self._reopen_channel()
            except _TRANSIENT as exc:
                raise BrokerUnavailable(f"publish channel could not be reopened: {exc!r}") from exc

    async def _exchange(self, name: str) -> AbstractExchange:
        if name == DEFAULT.name:
            return self._channel.default_exchange
        found = self._exchanges.get(name)
        if found is None:
            found = self._exchanges[name] = await self._channel.get_exchange(name, ensure=False)
        return found

    def consumer(
        self, queue: Queue, handlers: Handlers[D], deps: D, *, prefetch: int = 64, name: str | None = None
    ) -> Consumer[D]:
        return Consumer(self, queue, handlers, deps, prefetch=prefetch, name=name)

    async def channel(self, *, prefetch: int) -> AbstractChannel:
        channel = await self.connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=prefetch)
        return channel

    async def close(self) -> None:
        await self._deadlines.close()
        await self.connection.close()


async def connect(
    url: str,
    *,
    name: str,
    topology: Topology = TOPOLOGY,
    prefix: str = "",
    max_in_flight: int = 256,
    publish_timeout: float = 10.0,
    retry_for: float = 60.0,
) -> Broker:
    """A robust connection named after the service (it shows in the management UI)."""
    # connect_robust's own steps, so that a connection whose first connect fails is closed here:
    # aio-pika leaves it to the garbage collector, whose close() coroutine is never awaited
    connection = aio_pika.RobustConnection(
        make_url(url), client_properties={"connection_name": f"{name}:{uuid.uuid4().hex[:6]}"}
    )
    try:
        await connection.connect()
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    except BaseException:
        await connection.close()
        raise
    return Broker(
        connection,
        channel,
        topology=topology,
        prefix=prefix,
        user=unquote(urlsplit(url).username or "guest"),  # aio-pika's default login
        max_in_flight=max_in_flight,
        publish_timeout=publish_timeout,
        retry_for=retry_for,
    )
