"""A topology, an event and an inbox-guarded effects ledger for the outbox and inbox tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import asyncpg

from messaging.event import Envelope, Event
from messaging.inbox import Inbox
from messaging.topology import Binding, Exchange, ExchangeType, Queue, Topology

OB = Exchange("ob.events", ExchangeType.TOPIC)
EFFECTS = Queue("ob.effects", binds=(Binding(OB, "ob.#"),), retry_delays=(0.2, 0.4), scheduled=True)


class PaymentNoted(Event):
    routing_key: ClassVar[str] = "ob.payment.noted"
    n: int


TOPOLOGY = Topology(exchanges=(OB,), queues=(EFFECTS,), routes={PaymentNoted: (OB,)}, delay_levels=4)

CREATE_EFFECTS = "CREATE TABLE effects (message_id text NOT NULL, n integer NOT NULL)"
ADD_EFFECT = "INSERT INTO effects (message_id, n) VALUES ($1, $2)"


@dataclass
class Ledger:
    """The consumer side: an inbox-guarded handler whose effect is a row in `effects`."""

    pool: asyncpg.Pool
    inbox: Inbox

    async def effect(self, msg: Envelope[PaymentNoted], conn, deps) -> None:  # type: ignore[no-untyped-def]
        await conn.execute(ADD_EFFECT, str(msg.id), msg.data.n)

    async def figures(self) -> dict[str, int]:
        row = await self.pool.fetchrow(
            "SELECT count(*) AS effects, count(DISTINCT message_id) AS distinct_ FROM effects"
        )
        return {
            "delivered": self.inbox.delivered,
            "duplicates_absorbed": self.inbox.duplicates,
            "effects": row["effects"],
            "duplicate_effects": row["effects"] - row["distinct_"],
        }
