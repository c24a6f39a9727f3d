"""Every exchange kind routes as AMQP says: topic * and #, fanout, direct, headers all/any, default."""

from __future__ import annotations

import pytest

from messaging._wire import meta_of
from messaging.broker import PublishFailed, Unroutable
from messaging.event import Envelope
from messaging.topology import DEFAULT, Binding, Exchange, ExchangeType, Queue, QueueType, Topology
from tests.support.messaging_live import Collector, JobRequested, ThingAudited, ThingHappened
from tests.support.waiting import eventually

TOPIC = Exchange("things", ExchangeType.TOPIC)
FANOUT = Exchange("things.all", ExchangeType.FANOUT)
DIRECT = Exchange("jobs", ExchangeType.DIRECT)
HEADERS = Exchange("things.by.attr", ExchangeType.HEADERS)

STAR = Queue("q.star", binds=(Binding(TOPIC, "thing.*"),))  # one word: thing.happened only
HASH = Queue("q.hash", binds=(Binding(TOPIC, "thing.#"),))  # any depth
FAN_A = Queue("q.fan.a", binds=(Binding(FANOUT),))
FAN_B = Queue("q.fan.b", binds=(Binding(FANOUT),), type=QueueType.CLASSIC)
JOBS = Queue("q.jobs", binds=(Binding(DIRECT, "job.requested"),))
ALL = Queue(
    "q.hdr.all", binds=(Binding(HEADERS, "", (("x-match", "all"), ("channel", "email"), ("lang", "en"))),)
)
ANY = Queue(
    "q.hdr.any", binds=(Binding(HEADERS, "", (("x-match", "any"), ("channel", "sms"), ("lang", "en"))),)
)
NAMED = Queue("q.named")

TOPOLOGY = Topology(
    exchanges=(TOPIC, FANOUT, DIRECT, HEADERS),
    queues=(STAR, HASH, FAN_A, FAN_B, JOBS, ALL, ANY, NAMED),
    routes={ThingHappened: (TOPIC, FANOUT), ThingAudited: (TOPIC,), JobRequested: (DIRECT, HEADERS)},
)


async def _collect(broker, queues):
    collectors = {q.name: Collector() for q in queues}
    consumers = []
    for q in queues:
        c = broker.consumer(
            q,
            {
                ThingHappened: collectors[q.name],
                ThingAudited: collectors[q.name],
                JobRequested: collectors[q.name],
            },
            None,
        )
        await c.start()
        consumers.append(c)
    return collectors, consumers


async def test_every_exchange_kind_routes_to_exactly_the_bound_queues(make_broker, prefix) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    collectors, consumers = await _collect(broker, TOPOLOGY.queues)
    happened = Envelope.wrap(ThingHappened(n=1))
    audited = Envelope.wrap(ThingAudited(n=2))
    email_en = Envelope.wrap(JobRequested(n=3))
    sms_fr = Envelope.wrap(JobRequested(n=4))
    await broker.publish(happened)
    await broker.publish(audited)
    await broker.publish(email_en, headers={"channel": "email", "lang": "en"})
    await broker.publish(sms_fr, headers={"channel": "sms", "lang": "fr"})
    await broker.send(Envelope.wrap(ThingHappened(n=5)), NAMED)  # default exchange, by queue name
    expected = {
        "q.star": {1},
        "q.hash": {1, 2},
        "q.fan.a": {1},
        "q.fan.b": {1},
        "q.jobs": {3, 4},
        "q.hdr.all": {3},
        "q.hdr.any": {3, 4},
        "q.named": {5},
    }
    await eventually(lambda: all(len(collectors[q].seen) >= len(ns) for q, ns in expected.items()))
    for c in consumers:
        await c.stop()
    got = {q: {m.data.n for m in collectors[q].seen} for q in expected}
    assert got == expected
    assert all(len(collectors[q].seen) == len(expected[q]) for q in expected)  # nothing twice


async def test_unroutable_message_raises_instead_of_vanishing(make_broker, prefix) -> None:
    lonely = Exchange("lonely", ExchangeType.TOPIC)
    broker = await make_broker(
        Topology(exchanges=(lonely,), queues=(), routes={ThingHappened: (lonely,)}), prefix
    )
    await broker.declare()
    with pytest.raises(Unroutable):
        await broker.publish(Envelope.wrap(ThingHappened(n=1)))
    with pytest.raises(Unroutable):  # no such queue behind the default exchange
        await broker.publish_raw(
            DEFAULT.name, prefix + "nobody-home", b"{}", meta_of(Envelope.wrap(ThingHappened()))
        )


async def test_publishing_to_a_missing_exchange_raises_and_the_channel_recovers(make_broker, prefix) -> None:
    missing = Exchange("never-declared", ExchangeType.TOPIC)
    broker = await make_broker(
        Topology(exchanges=(missing,), queues=(NAMED,), routes={ThingHappened: (missing,)}), prefix
    )
    await broker.declare()
    await broker.connection.channel()  # another channel is unaffected
    with pytest.raises(PublishFailed):
        await broker.publish_raw(
            prefix + "really-missing", "x", b"{}", meta_of(Envelope.wrap(ThingHappened()))
        )
    await broker.send(Envelope.wrap(ThingHappened(n=9)), NAMED)  # the publish channel came back


async def test_amqp_properties_follow_the_contract(make_broker, prefix, rabbit) -> None:
    broker = await make_broker(TOPOLOGY, prefix)
    await broker.declare()
    sent = Envelope.wrap(ThingHappened(n=1), correlation_id="order-123")
    await broker.send(sent, NAMED)
    channel = await broker.connection.channel()
    queue = await channel.declare_queue(prefix + NAMED.name, passive=True)
    got = await eventually(lambda: queue.get(fail=False, no_ack=True))
    assert got.content_type == "application/json"
    assert got.delivery_mode == 2
    assert got.message_id == str(sent.id)
    assert got.correlation_id == "order-123"
    assert got.type == "thing.happened"
    assert got.timestamp is not None
    assert b'"occurred_at"' in got.body
    assert b'"causation_id"' in got.body
    assert b'"version":1' in got.body
    await channel.close()
