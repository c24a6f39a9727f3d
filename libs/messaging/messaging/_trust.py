"""Which messages a consumer accepts: the types its queue carries, from the service that owns them."""

from __future__ import annotations

from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage

from messaging.topology import Queue, Topology, producer_of


@dataclass(frozen=True)
class Admission:
    """A consumer's door. Through the public exchanges a message must be of a type the queue's
    bindings carry and carry the `user_id` of the service that publishes that type (RabbitMQ refuses a
    user_id that is not the publishing connection's user). Through the owner's own exchange (its
    retries, parked messages, direct sends, replays) and the delay levels (each owner may only schedule
    into its own queues) only the owner or an administrator can write, so those are its own."""

    queue: str
    own: tuple[str, ...]  # exchange names (prefixed) only the owner writes to; prefixes end with "."
    carried: frozenset[str]
    publishers: dict[str, str]  # routing key -> the user that publishes it

    @classmethod
    def of(cls, topology: Topology, queue: Queue, prefix: str, user: str) -> Admission:
        # With one user per service (deploy/), each type must come from its producer's user; with one
        # user shared by every process (make run's guest), user_id cannot tell services apart.
        per_service = user == prefix + queue.owner
        publishers = {
            event.routing_key: prefix + producer_of(event) if per_service else user
            for event in topology.routes
        }
        return cls(
            queue=prefix + queue.name,
            own=(prefix + queue.internal_exchange, prefix + "delay."),
            carried=topology.carried_by(queue),
            publishers=publishers,
        )

    def refusal(self, message: AbstractIncomingMessage) -> str | None:
        """Why the message may not be handled here, or None."""
        kind, exchange = message.type or "", message.exchange or ""
        if exchange == self.own[0] or exchange.startswith(self.own[1]):
            return None
        if kind not in self.carried:
            return f"{kind or 'a message without a type'} is not carried by {self.queue} (from {exchange!r})"
        expected = self.publishers[kind]
        if message.user_id != expected:
            return f"{kind} published by {message.user_id!r}; only {expected!r} publishes it"
        return None
