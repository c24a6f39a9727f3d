"""Every exchange, queue, binding, retry and dead-letter queue, as data; declared nowhere else."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from messaging.event import Event
from messaging.events import orders as order_events
from messaging.events import payments as payment_events
from messaging.events import tasks as task_events

__all__ = [
    "BROADCAST",
    "DEFAULT",
    "ORDERS",
    "PAYMENTS",
    "TASKS",
    "TOPOLOGY",
    "Binding",
    "Exchange",
    "ExchangeType",
    "Queue",
    "QueueType",
    "Topology",
    "task_queue",
]


class ExchangeType(StrEnum):
    TOPIC = "topic"
    FANOUT = "fanout"
    DIRECT = "direct"
    HEADERS = "headers"


class QueueType(StrEnum):
    QUORUM = "quorum"
    CLASSIC = "classic"


@dataclass(frozen=True)
class Exchange:
    name: str
    type: ExchangeType

    @property
    def is_default(self) -> bool:
        return self.name == ""


DEFAULT = Exchange("", ExchangeType.DIRECT)  # AMQP's default exchange: routes by queue name, never declared


@dataclass(frozen=True)
class Binding:
    exchange: Exchange
    routing_key: str = ""
    arguments: tuple[tuple[str, str], ...] = ()  # headers exchanges: (("x-match", "all"), ("k", "v"))


@dataclass(frozen=True)
class Queue:
    """A durable queue. A consuming queue gets `<name>.retry.<n>` delay queues and `<name>.dlq`."""

    name: str
    binds: tuple[Binding, ...] = ()
    type: QueueType | None = None  # None: PAYBUS_QUEUE_TYPE, else quorum (see default_queue_type)
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)  # seconds before attempts 2, 3, ...
    dead_letter: bool = True
    scheduled: bool = False  # may receive delayed messages through the delay levels
    max_length: int | None = None
    delivery_limit: int = 20  # quorum only: a message that kills its consumer this often is parked

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    def retry_name(self, attempt: int) -> str:
        """The delay queue a message waits in after failing `attempt` (1-based)."""
        return f"{self.name}.retry.{attempt}"

    @property
    def dlq_name(self) -> str:
        return f"{self.name}.dlq"

    @property
    def owner(self) -> str:
        """The consuming service: queues are named <consumer>.<source>."""
        return owner_of(self.name)

    @property
    def internal_exchange(self) -> str:
        """The owner's direct exchange for its retries, dead letters and direct sends (by queue name).

        Only the owner's broker user may write to it, so no service needs the default exchange, which
        would let it write into every queue (issue #13).
        """
        return internal_exchange(self.owner)


def owner_of(queue_name: str) -> str:
    """The service that consumes the queue `queue_name` (<consumer>.<source>, retry and DLQ names too)."""
    return queue_name.split(".", 1)[0]


def internal_exchange(owner: str) -> str:
    return f"{owner}.internal"


def producer_of(event: type[Event]) -> str:
    """The service that publishes `event`: public events live in messaging/events/<producer>.py, a
    service's own ones in its package. With per-service broker users it is also the publishing user."""
    if issubclass(event, task_events.Tick):
        return event.owner()  # tasks share one exchange; each is scheduled by the service it names
    module = event.__module__
    if module.startswith("messaging.events."):
        return module.rsplit(".", 1)[-1]
    return module.split(".", 1)[0]


def default_queue_type() -> QueueType:
    """The type of queues that name none: quorum, unless PAYBUS_QUEUE_TYPE says classic.

    Production keeps quorum queues (replicated, delivery limits, at-least-once dead-lettering). The
    test suite selects classic for the hundreds of short-lived queues its prefixes declare, which a
    single broker creates and deletes far faster; tests that need quorum behaviour name it.
    """
    return QueueType(os.environ.get("PAYBUS_QUEUE_TYPE", QueueType.QUORUM.value))


def resolved(queue: Queue, default: QueueType | None = None) -> Queue:
    return queue if queue.type is not None else replace(queue, type=default or default_queue_type())


def _type(queue: Queue) -> QueueType:
    assert queue.type is not None, "resolve the queue first"
    return queue.type


@dataclass(frozen=True)
class ExchangeDecl:
    name: str
    type: ExchangeType


@dataclass(frozen=True)
class QueueDecl:
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class BindingDecl:
    source: str
    destination: str
    destination_type: str  # "queue" or "exchange"
    routing_key: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Exactly what to declare on a broker, in order: the single source for code and definitions."""

    exchanges: tuple[ExchangeDecl, ...]
    queues: tuple[QueueDecl, ...]
    bindings: tuple[BindingDecl, ...]


@dataclass(frozen=True)
class Topology:
    exchanges: tuple[Exchange, ...]
    queues: tuple[Queue, ...]
    routes: Mapping[type[Event], tuple[Exchange, ...]]
    delay_levels: int = 18  # scheduled work up to 2**18 - 1 s (about 3 days), whole seconds

    def queue(self, name: str) -> Queue:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)

    def exchanges_for(self, event: type[Event]) -> tuple[Exchange, ...]:
        try:
            return self.routes[event]
        except KeyError:
            raise LookupError(f"no route for {event.__name__}: add it to the topology's routes") from None

    def carried_by(self, queue: Queue) -> frozenset[str]:
        """The event types (routing keys) that reach `queue` through its bindings from the routes:
        any other type arriving through those exchanges is forged or misrouted."""
        keys: set[str] = set()
        for event, exchanges in self.routes.items():
            for binding in queue.binds:
                if binding.exchange in exchanges and _matches(binding, event.routing_key):
                    keys.add(event.routing_key)
        return frozenset(keys)

    @property
    def max_delay(self) -> int:
        return int(2**self.delay_levels) - 1

    def plan(self, prefix: str = "", queue_type: QueueType | None = None) -> Plan:
        """What to declare; `queue_type` fixes the type of queues that name none (exports: quorum)."""
        default = queue_type or default_queue_type()
        exchanges = [ExchangeDecl(prefix + x.name, x.type) for x in self.exchanges if not x.is_default]
        owners = sorted({q.owner for q in self.queues})
        exchanges += [ExchangeDecl(prefix + internal_exchange(o), ExchangeType.DIRECT) for o in owners]
        queues: list[QueueDecl] = []
        bindings: list[BindingDecl] = []
        for queue in self.queues:
            queues.extend(_queue_decls(resolved(queue, default), prefix))
            bindings.extend(_bindings(queue, prefix, self.delay_levels))
        if any(q.scheduled for q in self.queues):
            delay = _delay_plan(prefix, self.delay_levels, default)
            exchanges.extend(delay.exchanges)
            queues.extend(delay.queues)
            bindings.extend(delay.bindings)
        return Plan(tuple(exchanges), tuple(queues), tuple(bindings))


def _matches(binding: Binding, routing_key: str) -> bool:
    """Whether a message with `routing_key` published to the binding's exchange reaches the queue."""
    kind = binding.exchange.type
    if kind in (ExchangeType.FANOUT, ExchangeType.HEADERS):
        return True  # headers bindings match on headers, which a route does not fix: the route decides
    if kind is ExchangeType.DIRECT:
        return binding.routing_key == routing_key
    return _topic_match(binding.routing_key.split("."), routing_key.split("."))


def _topic_match(pattern: list[str], words: list[str]) -> bool:
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_topic_match(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _topic_match(rest, words[1:])


def _queue_args(
    queue: Queue, prefix: str, dead_letter_key: str | None, ttl: float | None = None
) -> dict[str, Any]:
    args: dict[str, Any] = {"x-queue-type": _type(queue).value}
    if dead_letter_key is not None:
        args["x-dead-letter-exchange"] = prefix + queue.internal_exchange
        args["x-dead-letter-routing-key"] = dead_letter_key
        if queue.type is QueueType.QUORUM:  # never drop a message on its way to the next queue
            args["x-dead-letter-strategy"] = "at-least-once"
            args["x-overflow"] = "reject-publish"
    if ttl is not None:
        args["x-message-ttl"] = math.ceil(ttl * 1000)
    return args


def queue_arguments(queue: Queue, prefix: str = "") -> dict[str, Any]:
    """The arguments a consumer declares its queue with: the same as the plan's."""
    return dict(_queue_decls(resolved(queue), prefix)[0].arguments)


def _queue_decls(queue: Queue, prefix: str) -> list[QueueDecl]:
    name = prefix + queue.name
    if not queue.dead_letter:
        return [QueueDecl(name, {"x-queue-type": _type(queue).value})]
    main = _queue_args(queue, prefix, f"{name}.dlq")
    if queue.type is QueueType.QUORUM:
        main["x-delivery-limit"] = queue.delivery_limit
    if queue.max_length is not None:
        main["x-max-length"] = queue.max_length
    decls = [QueueDecl(name, main), QueueDecl(f"{name}.dlq", {"x-queue-type": _type(queue).value})]
    for attempt, delay in enumerate(queue.retry_delays, start=1):
        decls.append(QueueDecl(f"{name}.retry.{attempt}", _queue_args(queue, prefix, name, ttl=delay)))
    return decls


def _bindings(queue: Queue, prefix: str, levels: int) -> list[BindingDecl]:
    name = prefix + queue.name
    out = [
        BindingDecl(prefix + b.exchange.name, name, "queue", b.routing_key, dict(b.arguments))
        for b in queue.binds
        if not b.exchange.is_default
    ]
    own = [name]  # each of the owner's queues by its own name on the owner's exchange
    if queue.dead_letter:
        own += [f"{name}.dlq", *(f"{name}.retry.{n}" for n in range(1, len(queue.retry_delays) + 1))]
    out += [BindingDecl(prefix + queue.internal_exchange, q, "queue", q) for q in own]
    if queue.scheduled:
        out.append(
            BindingDecl(delay_deliver_exchange(prefix), name, "queue", delay_binding_key(levels, name))
        )
    return out


# Scheduled work: binary delay levels (NServiceBus's RabbitMQ design). Level n holds a message for
# 2**n seconds in a queue whose TTL is the same for every message, so none waits behind a longer one.
# The routing key spells the delay in bits, highest level first, then the target queue's name.


def delay_exchange(prefix: str, level: int) -> str:
    return f"{prefix}delay.level.{level:02d}"


def delay_deliver_exchange(prefix: str) -> str:
    return f"{prefix}delay.deliver"


def delay_binding_key(levels: int, queue_name: str) -> str:
    return ".".join(["*"] * levels + [queue_name])


def delay_routing_key(levels: int, seconds: int, queue_name: str) -> str:
    bits = [str((seconds >> level) & 1) for level in reversed(range(levels))]
    return ".".join([*bits, queue_name])


def _delay_plan(prefix: str, levels: int, queue_type: QueueType) -> Plan:
    deliver = delay_deliver_exchange(prefix)
    exchanges = [ExchangeDecl(delay_exchange(prefix, n), ExchangeType.TOPIC) for n in range(levels)]
    exchanges.append(ExchangeDecl(deliver, ExchangeType.TOPIC))
    queues, bindings = [], []
    for n in range(levels):
        name = delay_exchange(prefix, n)
        below = delay_exchange(prefix, n - 1) if n else deliver
        args: dict[str, Any] = {
            "x-queue-type": queue_type.value,
            "x-message-ttl": 2**n * 1000,
            "x-dead-letter-exchange": below,  # no routing key: the bits travel on unchanged
        }
        if queue_type is QueueType.QUORUM:
            args |= {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        queues.append(QueueDecl(name, args))
        stars = ["*"] * (levels - 1 - n)
        bindings.append(BindingDecl(name, name, "queue", ".".join([*stars, "1", "#"])))
        bindings.append(BindingDecl(name, below, "exchange", ".".join([*stars, "0", "#"])))
    return Plan(tuple(exchanges), tuple(queues), tuple(bindings))


# The application's topology: public exchanges of ARCHITECTURE.md and each service's own queues.

PAYMENTS = Exchange("payments.events", ExchangeType.TOPIC)
BROADCAST = Exchange("payments.broadcast", ExchangeType.FANOUT)
ORDERS = Exchange("orders.events", ExchangeType.TOPIC)
TASKS = Exchange("paybus.tasks", ExchangeType.DIRECT)  # periodic tasks: routing key = task name

_PAYMENT_EVENTS: tuple[type[Event], ...] = (
    payment_events.PaymentSucceeded,
    payment_events.PaymentPending,
    payment_events.PaymentFailed,
    payment_events.PaymentExpired,
    payment_events.PaymentRefunded,
    payment_events.PaymentDuplicateRefunded,
    payment_events.PaymentRefundReversed,
)
_ORDER_EVENTS: tuple[type[Event], ...] = (
    order_events.OrderCreated,
    order_events.OrderPaid,
    order_events.OrderCanceled,
    order_events.OrderRefunded,
    order_events.OrderRefundReversed,
    order_events.OrderPaymentFailed,
    order_events.OrderPaymentParked,
)
# Each task has a queue of its own named after it (`<owner>.<task>`), so a slow task never holds up
# another and each has its own retries and DLQ; the owner's workers compete for its ticks.
_TASKS: tuple[type[task_events.Tick], ...] = (
    task_events.StripeReconciliationDue,
    task_events.PaymentsPruneDue,
)


def task_queue(task: type[task_events.Tick]) -> Queue:
    """The queue that carries `task`'s ticks: bound to paybus.tasks by the task's name."""
    return Queue(task.routing_key, binds=(Binding(TASKS, task.routing_key),))


# Each service's queues, named <consumer>.<source>; code names them by these constants, never by string.
ORDERS_PAYMENTS = Queue("orders.payments", binds=(Binding(PAYMENTS, "payment.*"),))
ORDERS_DEADLINES = Queue("orders.deadlines", scheduled=True)  # "is this order still unpaid?", sent delayed
NOTIFIER_PAYMENTS = Queue("notifier.payments", binds=(Binding(BROADCAST),))
NOTIFIER_ORDERS = Queue("notifier.orders", binds=(Binding(ORDERS, "order.*"),))

TOPOLOGY = Topology(
    exchanges=(PAYMENTS, BROADCAST, ORDERS, TASKS),
    queues=(
        ORDERS_PAYMENTS,
        ORDERS_DEADLINES,
        NOTIFIER_PAYMENTS,
        NOTIFIER_ORDERS,
        *(task_queue(task) for task in _TASKS),
    ),
    routes={
        **{event: (PAYMENTS, BROADCAST) for event in _PAYMENT_EVENTS},
        **{event: (ORDERS,) for event in _ORDER_EVENTS},
        **{task: (TASKS,) for task in _TASKS},
    },
)
