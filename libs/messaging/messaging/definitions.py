"""The topology as a RabbitMQ definitions document: topology, policies and least-privilege users."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from messaging.topology import (
    TOPOLOGY,
    ExchangeType,
    Queue,
    QueueType,
    Topology,
    delay_exchange,
    producer_of,
    resolved,
)

__all__ = ["DEFAULT_EXCHANGE", "Access", "access", "export", "password_hash"]

# Permission regexes see AMQP's nameless default exchange under this name.
DEFAULT_EXCHANGE = "amq.default"
HASHING = "rabbit_password_hashing_sha256"
QUEUE_MAX_LENGTH = 1_000_000  # a safety cap: publishers get nacks (and retry) instead of a full disk
DLQ_MAX_LENGTH = 100_000
MONITORING = "monitoring"


@dataclass(frozen=True)
class Access:
    """One broker user: exact resource names it may configure, write and read, routing keys per topic."""

    user: str
    configure: frozenset[str] = frozenset()
    write: frozenset[str] = frozenset()
    read: frozenset[str] = frozenset()
    topics: Mapping[str, frozenset[str]] = field(default_factory=dict)  # exchange -> key regexes
    tags: tuple[str, ...] = ()
    everything: bool = False  # an administrator: configure, write and read anything in the vhost


def access(topology: Topology = TOPOLOGY, prefix: str = "") -> list[Access]:
    """Each service's grants, derived from the topology: what it publishes, consumes and schedules."""
    grants: dict[str, dict[str, set[str]]] = {}
    topics: dict[str, dict[str, set[str]]] = {}

    def grant(user: str, kind: str, name: str) -> None:
        grants.setdefault(user, {"configure": set(), "write": set(), "read": set()})[kind].add(name)

    for event, exchanges in topology.routes.items():
        for exchange in exchanges:
            grant(producer_of(event), "write", prefix + exchange.name)
            if exchange.type is ExchangeType.TOPIC:
                keys = topics.setdefault(producer_of(event), {}).setdefault(prefix + exchange.name, set())
                keys.add(f"^{re.escape(event.routing_key)}$")
    for queue in topology.queues:
        user, name = queue.owner, prefix + queue.name
        grant(user, "configure", name)  # consumers re-declare their own queue at start
        grant(user, "read", name)
        # retry copies, parking and direct sends go through the owner's own exchange, never the default
        # one, which would let a service write into every queue
        grant(user, "write", prefix + queue.internal_exchange)
        if queue.scheduled:
            top = delay_exchange(prefix, topology.delay_levels - 1)
            grant(user, "write", top)
            key = rf"^(?:[01]\.){{{topology.delay_levels}}}{re.escape(name)}$"
            topics.setdefault(user, {}).setdefault(top, set()).add(key)
    out = [
        Access(
            prefix + user,
            frozenset(g["configure"]),
            frozenset(g["write"]),
            frozenset(g["read"]),
            {x: frozenset(keys) for x, keys in topics.get(user, {}).items()},
        )
        for user, g in sorted(grants.items())
    ]
    return [*out, Access(prefix + MONITORING, tags=(MONITORING,))]  # management UI and API, no AMQP rights


def _exact(names: Iterable[str], everything: bool = False) -> str:
    """A regex matching exactly these names; '^$' (nothing) when there are none."""
    if everything:
        return ".*"
    ordered = sorted(names)
    return f"^(?:{'|'.join(re.escape(n) for n in ordered)})$" if ordered else "^$"


def _any_of(patterns: Iterable[str]) -> str:
    return "|".join(sorted(patterns)) or "^$"


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's salted SHA-256: base64(salt + sha256(salt + password)), salt of 4 bytes."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _user(name: str, tags: Iterable[str], passwords: Mapping[str, str], fixed_salt: bool) -> dict[str, Any]:
    password = passwords.get(name)
    salt = hashlib.sha256(name.encode()).digest()[:4] if fixed_salt else None
    return {
        "name": name,
        # No password: the user cannot log in until one is set (a Secret, or `rabbitmqctl change_password`).
        "password_hash": "" if password is None else password_hash(password, salt),
        "hashing_algorithm": HASHING,
        "tags": list(tags),
        "limits": {},
    }


def _access_document(
    grants: list[Access], vhost: str, passwords: Mapping[str, str], fixed_salt: bool
) -> dict[str, Any]:
    return {
        "users": [_user(a.user, a.tags, passwords, fixed_salt) for a in grants],
        "permissions": [
            {
                "user": a.user,
                "vhost": vhost,
                "configure": _exact(a.configure, a.everything),
                "write": _exact(a.write, a.everything),
                "read": _exact(a.read, a.everything),
            }
            for a in grants
        ],
        "topic_permissions": [
            {"user": a.user, "vhost": vhost, "exchange": x, "write": _any_of(keys), "read": "^$"}
            for a in grants
            for x, keys in sorted(a.topics.items())
        ],
    }


def _queue_policy(queue: Queue) -> dict[str, Any]:
    definition: dict[str, Any] = {"max-length": queue.max_length or QUEUE_MAX_LENGTH}
    if resolved(queue, QueueType.QUORUM).type is QueueType.QUORUM:  # exports are quorum throughout
        definition.update(
            {
                "delivery-limit": queue.delivery_limit,
                "dead-letter-strategy": "at-least-once",
                "overflow": "reject-publish",
            }
        )
    return definition


def policies(topology: Topology, vhost: str, prefix: str = "") -> list[dict[str, Any]]:
    """Safety nets beside the queue arguments: delivery limit, at-least-once dead-lettering, length caps."""
    out = []
    parked = [q for q in topology.queues if q.dead_letter]
    for queue in parked:
        pattern = rf"^{re.escape(prefix + queue.name)}(?:\.retry\.\d+)?$"
        out.append((prefix + queue.name, pattern, _queue_policy(queue)))
    if parked:
        dlqs = _exact(prefix + q.dlq_name for q in parked)
        out.append((prefix + "dlq", dlqs, {"max-length": DLQ_MAX_LENGTH, "overflow": "reject-publish"}))
    if any(q.scheduled for q in topology.queues):
        pattern = rf"^{re.escape(prefix)}delay\.level\.\d+$"
        delay = {"max-length": QUEUE_MAX_LENGTH, "dead-letter-strategy": "at-least-once"}
        out.append((prefix + "delay", pattern, {**delay, "overflow": "reject-publish"}))
    return [
        {"vhost": vhost, "name": n, "pattern": p, "apply-to": "queues", "priority": 0, "definition": d}
        for n, p, d in out
    ]


def export(
    topology: Topology = TOPOLOGY,
    *,
    vhost: str = "/",
    prefix: str = "",
    passwords: Mapping[str, str] | None = None,
    fixed_salt: bool = False,
    admin: str | None = None,
) -> dict[str, Any]:
    """The whole document. `passwords` maps user to password (absent: no password login);
    `fixed_salt` makes hashes reproducible (dev files only); `admin` adds a full-rights administrator."""
    grants = access(topology, prefix)
    if admin is not None:  # the operator, and the `topology declare` job
        grants.append(Access(admin, tags=("administrator",), everything=True))
    document = {"vhosts": [{"name": vhost}], **_topology_document(topology, vhost, prefix)}
    document.update(_access_document(grants, vhost, passwords or {}, fixed_salt))
    document["policies"] = policies(topology, vhost, prefix)
    return document


def _topology_document(topology: Topology, vhost: str, prefix: str) -> dict[str, Any]:
    plan = topology.plan(prefix, queue_type=QueueType.QUORUM)  # what production runs, whatever the env says
    return {
        "exchanges": [
            {
                "name": x.name,
                "vhost": vhost,
                "type": x.type.value,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for x in plan.exchanges
        ],
        "queues": [
            {
                "name": q.name,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": dict(q.arguments),
            }
            for q in plan.queues
        ],
        "bindings": [
            {
                "source": b.source,
                "vhost": vhost,
                "destination": b.destination,
                "destination_type": b.destination_type,
                "routing_key": b.routing_key,
                "arguments": dict(b.arguments),
            }
            for b in plan.bindings
        ],
    }
