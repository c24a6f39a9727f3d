"""Consumer runner: typed dispatch, ack after the handler, retries through delay queues, then the DLQ."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, ConsumerTag

from messaging import _tracing, logcontext, observe
from messaging._trust import Admission
from messaging._wire import Handler, Handlers, Meta, PublishFailed
from messaging.db import unavailable
from messaging.event import Envelope, Event, InvalidMessage, parse
from messaging.topology import Queue, queue_arguments

if TYPE_CHECKING:
    from messaging.broker import Broker

log = logging.getLogger(__name__)
D = TypeVar("D")
ATTEMPT = "x-attempt"
HOLD_MAX = 300.0  # seconds a message is held while the database is unavailable, then the retry ladder
_DROP = {"x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason"}
_ACK_LOST = (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError, ConnectionError)


class Permanent(Exception):
    """Raised by a handler when retrying cannot help (e.g. SMTP 5xx): the message is parked at once."""


def _text(value: object, limit: int = 1000) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Consumer(Generic[D]):
    """Consumes one queue; each message is acked only after its handler returned (or it was parked)."""

    def __init__(
        self,
        broker: Broker,
        queue: Queue,
        handlers: Handlers[D],
        deps: D,
        *,
        prefetch: int,
        name: str | None,
    ) -> None:
        self._broker = broker
        self._queue = queue
        self._name = broker.prefix + queue.name
        self._handlers: dict[str, tuple[type[Event], Handler[D]]] = {
            model.routing_key: (model, handler) for model, handler in handlers.items()
        }
        self._deps = deps
        self._admission = Admission.of(broker.topology, queue, broker.prefix, broker.user)
        self._internal = broker.prefix + queue.internal_exchange
        self._prefetch = prefetch
        self._tag_name = name
        self._channel: AbstractChannel | None = None
        self._amqp_queue: AbstractQueue | None = None
        self._tag: ConsumerTag | None = None
        self._attached = False
        self._active = 0
        self._running: set[asyncio.Task[None]] = set()  # handlers that outlive a closed channel
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def queue_name(self) -> str:
        return self._name

    @property
    def attached(self) -> bool:
        """Consuming, as far as the last check saw (readiness): set by start() and run()'s checks."""
        return self._attached and self._channel is not None and not self._channel.is_closed

    async def start(self) -> None:
        self._channel = await self._broker.channel(prefetch=self._prefetch)
        args = queue_arguments(self._queue, self._broker.prefix)
        self._amqp_queue = await self._channel.declare_queue(self._name, durable=True, arguments=args)
        self._tag = await self._amqp_queue.consume(self._on_message, consumer_tag=self._tag_name)
        self._attached = True
        log.info("consuming %s (prefetch %d)", self._name, self._prefetch)

    async def run(self, *, check_every: float = 5.0) -> None:
        """Attach, then keep attached until cancelled (a supervised task; stop() drains).

        aio-pika restores consumers after a reconnect or a broker's consumer-cancel, but its robust
        objects have left queues with zero consumers before while believing they consume. So every
        `check_every` seconds, while the connection is up, this asks both sides: does our channel
        still hold our consumer tag, and does the broker count a consumer on the queue? Two failed
        checks in a row (one interval for aio-pika's own restore) and it attaches again itself.
        """
        if self._amqp_queue is None:
            await self.start()
        strikes = 0
        while True:
            await asyncio.sleep(check_every)
            seen = await self._check() if self._broker.connected else None
            if seen is None:  # no answer: the connection is down or flapping; aio-pika is on it
                continue
            self._attached = seen
            strikes = 0 if seen else strikes + 1
            if strikes >= 2:
                log.warning("%s: no consumer attached after recovery; attaching again", self._name)
                await self._reattach()
                strikes = 0

    async def _check(self) -> bool | None:
        """True/False: attached or not on both sides; None when the broker did not answer."""
        channel, tag = self._channel, self._tag
        if channel is None or tag is None or channel.is_closed:
            return False
        try:
            async with asyncio.timeout(5):
                underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
                if tag not in underlay.consumers:
                    return False
                probe = await self._broker.connection.channel(publisher_confirms=False)
                try:
                    declared = await probe.declare_queue(self._name, passive=True)
                finally:
                    await probe.close()
        except aiormq.exceptions.ChannelNotFoundEntity:
            return False  # the queue is gone (deleted): attaching again declares it
        except (*_ACK_LOST, TimeoutError):
            return None
        result = declared.declaration_result
        return result.consumer_count is None or result.consumer_count > 0

    async def _reattach(self) -> None:
        old, self._channel, self._attached = self._channel, None, False
        if old is not None and not old.is_closed:
            with contextlib.suppress(*_ACK_LOST, TimeoutError):
                async with asyncio.timeout(5):
                    await old.close()  # explicitly closed: aio-pika no longer restores it either
        try:
            async with asyncio.timeout(10):
                await self.start()
        except (*_ACK_LOST, TimeoutError) as exc:
            log.warning("%s: attaching again failed (%r); next check tries again", self._name, exc)

    async def stop(self, grace: float = 30.0) -> None:
        """Graceful drain: stop taking messages, finish the ones in flight, then close the channel."""
        self._attached = False
        if self._amqp_queue is not None and self._tag is not None:
            try:
                await self._amqp_queue.cancel(self._tag)
            except _ACK_LOST:
                log.warning("cancel of %s failed; the channel is going away anyway", self._name)
        for _ in range(3):  # let tasks aio-pika already created for delivered messages start
            await asyncio.sleep(0)
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("%d messages still in flight on %s after %.0fs", self._active, self._name, grace)
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def __aenter__(self) -> Consumer[D]:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        """aiormq runs this in a task that it cancels when the channel is closed (run() closes it to
        attach again). A handler cut off there may have done its outside effect (an e-mail accepted by
        SMTP) without committing that it did, so the redelivery did it again (make chaos,
        broker-restarted). The work runs in a task of our own and finishes; only its ack is lost, and
        the redelivery finds the effect recorded."""
        task = asyncio.create_task(self._tracked(message))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        await asyncio.shield(task)

    async def _tracked(self, message: AbstractIncomingMessage) -> None:
        logcontext.current.set(  # this task's own context: every line logged for this message names it
            {
                "message_id": message.message_id or "",
                "correlation_id": message.correlation_id or "",
                "event_type": message.type or "",
            }
        )
        observe.watching.set(self._broker.observer)  # Inbox.accept reports duplicates to it
        _tracing.name_delivery(self._name, message, _attempt(message))
        self._active += 1
        self._idle.clear()
        try:
            await self._process(message)
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def _process(self, message: AbstractIncomingMessage) -> None:
        stats, observer = self._broker.stats, self._broker.observer
        stats.consumed += 1
        observer.delivered(self._name)
        refusal = self._admission.refusal(message)
        if refusal is not None:  # forged or misrouted: never handled, parked for a person to see
            stats.refused += 1
            log.error("%s: message %s refused and parked: %s", self._name, message.message_id, refusal)
            _tracing.delivery_failed("parked", f"refused: {refusal}")
            await self._park(message, f"refused: {refusal}", attempt=1, why="refused")
            return
        entry = self._handlers.get(message.type or "")
        if entry is None:
            stats.ignored += 1  # a type this queue carries that this consumer does not handle
            await self._ack(message)
            observer.settled(self._name, "ignored")
            return
        model, handler = entry
        try:
            envelope = parse(message.body, model)
        except InvalidMessage as exc:
            _tracing.delivery_failed("parked", f"invalid body: {exc}", exc)
            await self._park(message, f"invalid body: {exc}", attempt=1, why="invalid")
            return
        started = time.perf_counter()
        try:
            await self._handle(handler, envelope, message)
        except Permanent as exc:
            self._handled(started, ok=False)
            log.error("%s: message %s failed permanently, parked: %s", self._name, message.message_id, exc)
            _tracing.delivery_failed("parked", f"{type(exc).__name__}: {exc}", exc)
            await self._park(
                message, f"{type(exc).__name__}: {exc}", attempt=_attempt(message), why="permanent"
            )
            return
        except Exception as exc:
            self._handled(started, ok=False)
            await self._retry_or_park(message, exc)
            return
        self._handled(started, ok=True)
        await self._ack(message)
        observer.settled(self._name, "acked")

    def _handled(self, started: float, *, ok: bool) -> None:
        self._broker.observer.handled(self._name, time.perf_counter() - started, ok=ok)

    async def _handle(
        self, handler: Handler[D], envelope: Envelope[Any], message: AbstractIncomingMessage
    ) -> None:
        """Run the handler; while the database is unavailable, hold the message and run it again.

        A terminated backend or a restarting server says nothing about the message: sending it round
        the retry ladder would burn its attempts (and park it in the DLQ during a long outage). Holding
        it keeps it unacked, so the prefetch window also stops new deliveries until the database is
        back; after `HOLD_MAX` seconds the ladder takes over.
        """
        pause, held = 0.1, 0.0
        while True:
            try:
                await handler(envelope, self._deps)
                return
            except Exception as exc:
                if isinstance(exc, Permanent) or not unavailable(exc) or held >= HOLD_MAX:
                    raise
                self._broker.stats.held_for_database += 1
                log.warning(
                    "%s: message %s: database unavailable (%r); running it again in %.1fs",
                    self._name,
                    message.message_id,
                    exc,
                    pause,
                )
            await asyncio.sleep(pause)
            held += pause
            pause = min(pause * 2, 5.0)

    async def _retry_or_park(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        attempt = _attempt(message)
        error = f"{type(exc).__name__}: {exc}"
        _tracing.delivery_failed("parked" if attempt >= self._queue.max_attempts else "retry", error, exc)
        if attempt >= self._queue.max_attempts:
            log.error(
                "%s: message %s failed %d times, parked: %s", self._name, message.message_id, attempt, error
            )
            await self._park(message, error, attempt=attempt, why="failed")
            return
        log.warning(
            "%s: message %s (correlation %s) failed attempt %d: %s",
            self._name,
            message.message_id,
            message.correlation_id,
            attempt,
            error,
        )
        headers = {**self._copied_headers(message), ATTEMPT: attempt + 1, "x-last-error": _text(error)}
        target = self._broker.prefix + self._queue.retry_name(attempt)
        if await self._forward(message, target, headers):
            self._broker.stats.retried += 1
            self._broker.observer.settled(self._name, "retried")

    async def _park(
        self, message: AbstractIncomingMessage, reason: str, *, attempt: int, why: observe.ParkReason
    ) -> None:
        headers = {
            **self._copied_headers(message),
            "x-error": _text(reason),
            "x-attempts": attempt,
            "x-queue": self._name,
            "x-failed-at": datetime.now(UTC).isoformat(),
        }
        headers.pop(ATTEMPT, None)
        if await self._forward(message, self._name + ".dlq", headers):
            self._broker.stats.dead_lettered += 1
            self._broker.observer.settled(self._name, "parked", why)

    def _copied_headers(self, message: AbstractIncomingMessage) -> dict[str, Any]:
        headers = {k: v for k, v in (message.headers or {}).items() if k not in _DROP}
        headers.setdefault("x-original-exchange", message.exchange or "")
        headers.setdefault("x-original-routing-key", message.routing_key or "")
        return headers

    async def _forward(self, message: AbstractIncomingMessage, queue: str, headers: dict[str, Any]) -> bool:
        """Copy to another queue with confirm, then ack; if that fails the broker dead-letters it."""
        meta: Meta = {
            "message_id": message.message_id or "",
            "type": message.type or "",
            "correlation_id": message.correlation_id or "",
            "timestamp": message.timestamp,
        }
        try:
            await self._broker.publish_raw(self._internal, queue, message.body, meta, headers)
        except PublishFailed as exc:
            log.error(
                "%s: could not move %s to %s (%s); rejecting", self._name, message.message_id, queue, exc
            )
            await self._settle(message.reject(requeue=False))
            self._broker.observer.settled(self._name, "rejected")
            return False
        await self._ack(message)
        return True

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        await self._settle(message.ack())

    async def _settle(self, settle: Any) -> None:
        try:
            await settle
        except _ACK_LOST:
            # The channel went away: the broker will redeliver; the inbox absorbs the repeat.
            log.warning("%s: ack lost with the channel; the message will be redelivered", self._name)


def _attempt(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPT, 1)
    return value if isinstance(value, int) and value > 0 else 1
