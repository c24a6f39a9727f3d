"""A handler that raises Permanent is parked in the DLQ at once, with the reason, never retried."""

from __future__ import annotations

from messaging import dlq
from messaging.broker import Broker, Handler, Permanent
from messaging.event import Envelope
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology
from tests.support.messaging_live import ThingHappened
from tests.support.waiting import eventually

EVENTS = Exchange("permanent.things", ExchangeType.TOPIC)
QUEUE = Queue("perm", binds=(Binding(EVENTS, "thing.*"),), retry_delays=(0.2, 0.2, 0.2))
TOPOLOGY = Topology(exchanges=(EVENTS,), queues=(QUEUE,), routes={ThingHappened: (EVENTS,)})


class Rejected(Permanent):
    """A service's own permanent failure type."""


async def _parked(
    broker: Broker, prefix: str, handler: Handler[None], sent: Envelope[ThingHappened]
) -> dlq.Parked:
    """Publish `sent`, consume it with `handler` until it is dead-lettered, and read it back from the DLQ."""
    async with broker.consumer(QUEUE, {ThingHappened: handler}, None):
        await broker.publish(sent)
        await eventually(lambda: broker.stats.dead_lettered == 1, timeout=10)
    [parked] = await dlq.show(broker, prefix + QUEUE.name)
    return parked


async def test_a_permanent_failure_is_parked_after_one_attempt_with_its_reason(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    attempts: list[int] = []

    async def handler(msg: Envelope[ThingHappened], deps: object) -> None:
        attempts.append(msg.data.n)
        raise Rejected("550 5.1.1 no such mailbox")

    sent = Envelope.wrap(ThingHappened(n=7), correlation_id="corr-perm")
    parked = await _parked(broker, prefix, handler, sent)
    assert attempts == [7]
    assert broker.stats.retried == 0
    assert parked.message_id == str(sent.id)
    assert parked.correlation_id == "corr-perm"
    assert parked.headers["x-error"] == "Rejected: 550 5.1.1 no such mailbox"
    assert parked.headers["x-attempts"] == 1
    assert parked.headers["x-queue"] == prefix + "perm"


async def test_a_permanent_failure_after_transient_ones_keeps_its_attempt_count(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    attempts: list[int] = []

    async def handler(msg: Envelope[ThingHappened], deps: object) -> None:
        attempts.append(msg.data.n)
        if len(attempts) == 1:
            raise ConnectionError("smtp down")
        raise Rejected("gave up")

    parked = await _parked(broker, prefix, handler, Envelope.wrap(ThingHappened(n=1)))
    assert len(attempts) == 2
    assert broker.stats.retried == 1
    assert parked.headers["x-attempts"] == 2
    assert parked.headers["x-error"] == "Rejected: gave up"
