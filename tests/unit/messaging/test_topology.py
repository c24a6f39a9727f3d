"""The topology plan: public exchanges, retry and dead-letter queues, delay levels, export."""

from __future__ import annotations

import pytest

from messaging import definitions
from messaging.topology import (
    TOPOLOGY,
    Binding,
    Exchange,
    ExchangeType,
    Queue,
    QueueType,
    Topology,
    _matches,
    delay_binding_key,
    delay_routing_key,
)


def test_public_exchanges_of_the_contract_are_declared() -> None:
    plan = TOPOLOGY.plan()
    kinds = {x.name: x.type for x in plan.exchanges}
    assert kinds["payments.events"] is ExchangeType.TOPIC
    assert kinds["payments.broadcast"] is ExchangeType.FANOUT
    assert kinds["orders.events"] is ExchangeType.TOPIC


def test_queues_are_quorum_unless_paybus_queue_type_says_classic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYBUS_QUEUE_TYPE", raising=False)
    assert {q.arguments["x-queue-type"] for q in TOPOLOGY.plan().queues} == {"quorum"}
    monkeypatch.setenv("PAYBUS_QUEUE_TYPE", "classic")
    assert {q.arguments["x-queue-type"] for q in TOPOLOGY.plan().queues} == {"classic"}
    exported = TOPOLOGY.plan(queue_type=QueueType.QUORUM)
    assert {q.arguments["x-queue-type"] for q in exported.queues} == {"quorum"}


def test_every_consuming_queue_has_retry_queues_and_a_dlq() -> None:
    queues = {q.name: q.arguments for q in TOPOLOGY.plan(queue_type=QueueType.QUORUM).queues}
    for queue in TOPOLOGY.queues:
        main = queues[queue.name]
        assert main["x-queue-type"] == "quorum"
        assert main["x-dead-letter-routing-key"] == f"{queue.name}.dlq"
        assert main["x-dead-letter-strategy"] == "at-least-once"
        assert f"{queue.name}.dlq" in queues
        ttls = [
            queues[f"{queue.name}.retry.{i}"]["x-message-ttl"] for i in range(1, len(queue.retry_delays) + 1)
        ]
        assert ttls == sorted(ttls)
        assert len(set(ttls)) == len(ttls)
        for i in range(1, len(queue.retry_delays) + 1):
            assert queues[f"{queue.name}.retry.{i}"]["x-dead-letter-routing-key"] == queue.name


def test_classic_queues_are_selectable_and_skip_quorum_only_arguments() -> None:
    q = Queue("c", type=QueueType.CLASSIC, retry_delays=(1.0,))
    args = {d.name: d.arguments for d in Topology((), (q,), {}).plan().queues}
    assert args["c"]["x-queue-type"] == "classic"
    assert "x-delivery-limit" not in args["c"]
    assert "x-dead-letter-strategy" not in args["c"]


def test_prefix_isolates_every_name_but_not_routing_keys() -> None:
    ex = Exchange("e", ExchangeType.TOPIC)
    topo = Topology((ex,), (Queue("q", binds=(Binding(ex, "a.*"),)),), {})
    plan = topo.plan("t1.")
    assert {x.name for x in plan.exchanges} == {"t1.e", "t1.q.internal"}
    assert all(q.name.startswith("t1.") for q in plan.queues)
    bindings = [(b.source, b.destination, b.routing_key) for b in plan.bindings]
    assert bindings[0] == ("t1.e", "t1.q", "a.*")
    assert all(b[0] == "t1.q.internal" and b[1] == b[2] for b in bindings[1:])  # the owner's own, by name


def test_retries_and_dead_letters_go_through_the_owners_exchange_never_the_default_one() -> None:
    queue = Queue("orders.payments", retry_delays=(1.0, 5.0))
    plan = Topology((), (queue,), {}).plan()
    assert {x.name: x.type for x in plan.exchanges} == {"orders.internal": ExchangeType.DIRECT}
    dlx = {q.name: q.arguments.get("x-dead-letter-exchange") for q in plan.queues}
    assert dlx == {
        "orders.payments": "orders.internal",
        "orders.payments.dlq": None,
        "orders.payments.retry.1": "orders.internal",
        "orders.payments.retry.2": "orders.internal",
    }
    own = {(b.source, b.destination, b.routing_key) for b in plan.bindings}
    assert own == {("orders.internal", q, q) for q in dlx}


def test_each_queue_carries_the_types_its_bindings_bring_and_no_other() -> None:
    carried = {q.name: TOPOLOGY.carried_by(q) for q in TOPOLOGY.queues}
    payments = {
        "payment.succeeded",
        "payment.pending",
        "payment.failed",
        "payment.expired",
        "payment.refunded",
        "payment.duplicate_refunded",
        "payment.refund_reversed",
    }
    assert carried["orders.payments"] == payments
    assert carried["notifier.payments"] == payments  # the fanout brings payment events only
    orders = {
        "order.created",
        "order.paid",
        "order.payment_failed",
        "order.canceled",
        "order.refunded",
        "order.refund_reversed",
        "order.payment_parked",
    }
    assert carried["notifier.orders"] == orders
    assert carried["orders.deadlines"] == set()  # fed only through its owner's exchange and the delays


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.#", "a", True),
        ("a.#", "a.b.c", True),
        ("#.c", "a.b.c", True),
        ("#", "anything.at.all", True),
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.c", False),
        ("payment.*", "order.created", False),
    ],
)
def test_topic_bindings_match_like_rabbitmq(pattern: str, key: str, matches: bool) -> None:
    ex = Exchange("t", ExchangeType.TOPIC)
    assert _matches(Binding(ex, pattern), key) is matches


def test_delay_routing_key_spells_the_seconds_in_bits_then_the_queue() -> None:
    assert delay_routing_key(4, 5, "orders.deadlines") == "0.1.0.1.orders.deadlines"
    assert delay_routing_key(4, 0, "q") == "0.0.0.0.q"
    assert delay_binding_key(4, "q") == "*.*.*.*.q"


def test_delay_levels_chain_down_to_the_delivery_exchange() -> None:
    topo = Topology((), (Queue("later", scheduled=True),), {}, delay_levels=3)
    plan = topo.plan(queue_type=QueueType.QUORUM)
    ttl = {q.name: q.arguments.get("x-message-ttl") for q in plan.queues if q.name.startswith("delay.")}
    assert ttl == {"delay.level.00": 1000, "delay.level.01": 2000, "delay.level.02": 4000}
    dlx = {q.name: q.arguments["x-dead-letter-exchange"] for q in plan.queues if q.name.startswith("delay.")}
    assert dlx == {
        "delay.level.00": "delay.deliver",
        "delay.level.01": "delay.level.00",
        "delay.level.02": "delay.level.01",
    }
    assert ("delay.deliver", "later", "*.*.*.later") in {
        (b.source, b.destination, b.routing_key) for b in plan.bindings
    }


def test_export_is_a_definitions_document_of_the_same_plan() -> None:
    doc = definitions.export(vhost="shop")
    plan = TOPOLOGY.plan()
    assert {x["name"] for x in doc["exchanges"]} == {x.name for x in plan.exchanges}
    assert {q["name"] for q in doc["queues"]} == {q.name for q in plan.queues}
    assert all(q["durable"] and q["vhost"] == "shop" for q in doc["queues"])
    assert len(doc["bindings"]) == len(plan.bindings)
