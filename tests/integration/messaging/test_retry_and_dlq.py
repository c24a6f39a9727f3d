"""Failures are retried with growing delays through delay queues, then parked in <queue>.dlq."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import ClassVar

from messaging import dlq
from messaging.event import Envelope, Event
from messaging.topology import DEFAULT, Binding, Exchange, ExchangeType, Queue, QueueType, Topology
from tests.support.messaging_live import Collector, ThingHappened
from tests.support.waiting import eventually

EVENTS = Exchange("retry.things", ExchangeType.TOPIC)
QUEUE = Queue("work", binds=(Binding(EVENTS, "thing.*"),), retry_delays=(0.3, 0.6), type=QueueType.QUORUM)


class ThingNoted(Event):  # routed to the queue; its consumer has no handler for it
    routing_key: ClassVar[str] = "thing.noted"


class ThingUnknown(Event):  # routed nowhere near the queue: whoever sends it there forged it
    routing_key: ClassVar[str] = "thing.unknown"


TOPOLOGY = Topology(
    exchanges=(EVENTS,), queues=(QUEUE,), routes={ThingHappened: (EVENTS,), ThingNoted: (EVENTS,)}
)


async def _depth(broker, name: str) -> int:
    channel = await broker.connection.channel()
    try:
        return (await channel.declare_queue(name, passive=True)).declaration_result.message_count
    finally:
        await channel.close()


async def test_a_failing_message_is_retried_later_and_succeeds_once(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    handler = Collector(fail=2)
    async with broker.consumer(QUEUE, {ThingHappened: handler}, None):
        await broker.publish(Envelope.wrap(ThingHappened(n=1)))
        await eventually(lambda: handler.seen, timeout=15)
    gaps = [b - a for a, b in zip(handler.times, handler.times[1:], strict=False)]
    assert len(handler.times) == 3
    assert gaps[0] >= 0.3 - 0.05
    assert gaps[1] >= 0.6 - 0.05
    assert gaps[1] > gaps[0]
    assert len(handler.seen) == 1
    assert broker.stats.retried == 2
    assert broker.stats.dead_lettered == 0
    assert await _depth(broker, prefix + "work.dlq") == 0


async def test_after_the_last_attempt_the_message_is_parked_with_the_error(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    handler = Collector(fail=99)
    sent = Envelope.wrap(ThingHappened(n=2), correlation_id="corr-1")
    async with broker.consumer(QUEUE, {ThingHappened: handler}, None):
        await broker.publish(sent)
        await eventually(lambda: broker.stats.dead_lettered == 1, timeout=15)
    assert handler.attempts[str(sent.id)] == QUEUE.max_attempts == 3
    [parked] = await dlq.show(broker, prefix + "work")
    assert parked.message_id == str(sent.id)
    assert parked.correlation_id == "corr-1"
    assert parked.headers["x-attempts"] == 3
    assert "RuntimeError: boom 3" in parked.headers["x-error"]
    assert parked.headers["x-queue"] == prefix + "work"
    assert parked.headers["x-original-routing-key"] == "thing.happened"
    assert await _depth(broker, prefix + "work.dlq") == 1  # show leaves it there


async def test_a_poison_body_goes_straight_to_the_dlq(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    handler = Collector()
    meta = {"message_id": "poison-1", "type": "thing.happened", "correlation_id": "c"}
    async with broker.consumer(QUEUE, {ThingHappened: handler}, None):
        await broker.publish_raw(prefix + "retry.things", "thing.happened", b"not json", meta)
        await broker.publish_raw(
            prefix + "retry.things", "thing.happened", b'{"id": "x"}', meta | {"message_id": "p2"}
        )
        no_type = meta | {"message_id": "p3", "type": ""}
        await broker.publish_raw(prefix + "retry.things", "thing.happened", b"{}", no_type)
        await eventually(lambda: broker.stats.dead_lettered == 3, timeout=10)
    assert handler.attempts == {}  # the handler never saw them
    parked = {p.message_id: p for p in await dlq.show(broker, prefix + "work")}
    assert set(parked) == {"poison-1", "p2", "p3"}
    assert parked["poison-1"].headers["x-error"].startswith("invalid body")
    assert parked["p2"].headers["x-attempts"] == 1
    assert "without a type" in parked["p3"].headers["x-error"]


async def test_a_type_the_queue_carries_without_a_handler_is_acked_and_ignored(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    async with broker.consumer(QUEUE, {ThingHappened: Collector()}, None):
        await broker.publish(Envelope.wrap(ThingNoted()))
        await eventually(lambda: broker.stats.ignored == 1)
    assert await _depth(broker, prefix + "work") == 0
    assert await _depth(broker, prefix + "work.dlq") == 0


async def test_a_type_the_queue_does_not_carry_is_refused_and_parked_with_the_reason(
    make_broker, prefix
) -> None:
    """Issue #13: an order.created sent to the payments fanout became an e-mail to anyone."""
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    handler = Collector()
    meta = {"message_id": "m1", "type": "thing.unknown", "correlation_id": "c"}
    async with broker.consumer(QUEUE, {ThingHappened: handler, ThingUnknown: handler}, None):
        await broker.publish_raw(prefix + "retry.things", "thing.unknown", b"{}", meta)
        await eventually(lambda: broker.stats.dead_lettered == 1)
    assert handler.attempts == {}
    assert broker.stats.refused == 1
    [parked] = await dlq.show(broker, prefix + "work")
    assert parked.headers["x-error"].startswith("refused: thing.unknown is not carried by")


async def test_operator_cli_lists_shows_replays_and_purges(make_broker, prefix, rabbit) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    for n in range(3):
        await broker.publish_raw(
            DEFAULT.name,
            prefix + "work.dlq",
            Envelope.wrap(ThingHappened(n=n)).model_dump_json().encode(),
            {"message_id": f"m{n}", "type": "thing.happened", "correlation_id": "c"},
            {"x-queue": prefix + "work", "x-error": "boom", "x-attempts": 3},
        )

    async def cli(*args: str) -> str:
        cmd = [
            sys.executable,
            "-m",
            "messaging",
            "--url",
            rabbit.url,
            "--prefix",
            prefix,
            "--management-url",
            rabbit.management_url,
            *args,
        ]
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0
        return out.decode()

    # the first listing that names the queue already counts all three: depths come from a passive
    # declare, not from the management API's statistics, which lag a few seconds (it used to say 0)
    listed = await eventually(lambda: _listed(cli, prefix + "work.dlq"), timeout=15)
    assert listed == [f"3  {prefix}work.dlq"]
    shown = await cli("dlq", "show", prefix + "work", "--limit", "1")
    assert json.loads(shown)["headers"]["x-error"] == "boom"
    handler = Collector()
    async with broker.consumer(QUEUE, {ThingHappened: handler}, None):
        assert "replayed 2 messages" in await cli("dlq", "replay", prefix + "work", "--limit", "2")
        await eventually(lambda: len(handler.seen) == 2)
    assert "purged 1 messages" in await cli("dlq", "purge", prefix + "work")
    assert await _depth(broker, prefix + "work.dlq") == 0


async def _listed(cli, name: str) -> list[str] | None:
    lines = [" ".join(line.split()).replace(" ", "  ", 1) for line in (await cli("dlq", "list")).splitlines()]
    return lines if any(line.endswith(name) for line in lines) else None
