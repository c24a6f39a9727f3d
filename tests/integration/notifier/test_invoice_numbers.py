"""Invoice numbers on the real database and broker: consecutive, assigned once, never shared or skipped.

The number is taken from the series' counter row in the transaction that records the receipt's
intent and stored on the receipt's row; the PDF each customer receives must print that number.
"""

from __future__ import annotations

import asyncio
import io
import re
import uuid

import asyncpg
from pypdf import PdfReader

from devmailbox.message import StoredMessage
from messaging.settings import service_database_dsn
from tests.support.events import paid
from tests.support.notifier_live import Stand, StandFactory
from tests.support.waiting import eventually

NUMBERS = "SELECT order_id, state, invoice_series, invoice_seq FROM emails WHERE kind = 'receipt'"
COUNTER = "SELECT series, next FROM invoice_counter"


async def _fetch(stand: Stand, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(service_database_dsn(stand.worker.settings.database_url, "notifier"))
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


def _printed_number(message: StoredMessage) -> str:
    [pdf] = [a for a in message.attachments if a.content_type == "application/pdf"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.payload)).pages)
    found = re.search(r"Invoice number: (\S+)", text)
    assert found is not None, text
    return found.group(1)


async def test_two_receipts_get_consecutive_numbers_and_a_redelivery_keeps_its_number(
    start_stand: StandFactory, mailbox
) -> None:
    stand = await start_stand(mailbox.smtp_port, shop_invoice_prefix="INV-", shop_name="Zoë's shop")
    first, second = paid(uuid.uuid4(), email="ann@example.com"), paid(uuid.uuid4(), email="ann@example.com")
    await stand.publish(first)
    await mailbox.wait_for(lambda m: "ann@example.com" in m.recipients(), count=1, timeout=10)
    await stand.publish(second)
    await stand.publish(first)  # redelivered: the same message again
    await stand.publish(paid(first.data.order_id, email="ann@example.com"))  # orders' event again, new id
    rows = await stand.drain(consumed=4)
    assert len(rows) == 2
    numbers = {r["order_id"]: (r["invoice_series"], r["invoice_seq"]) for r in await _fetch(stand, NUMBERS)}
    assert numbers == {first.data.order_id: ("INV-", 1), second.data.order_id: ("INV-", 2)}
    assert [tuple(r) for r in await _fetch(stand, COUNTER)] == [("INV-", 3)]
    printed = {m.message_id: _printed_number(m) for m in mailbox.store.list()}
    assert printed == {
        f"<receipt.{first.data.order_id}@paybus>": "INV-000001",
        f"<receipt.{second.data.order_id}@paybus>": "INV-000002",
    }


async def test_two_concurrent_consumers_never_share_or_skip_a_number(
    start_stand: StandFactory, mailbox, postgres
) -> None:
    """Two notifier workers on one database compete for one queue: the numbers are 1..N, each once."""
    database = postgres.dsn(f"{postgres.prefix}_{uuid.uuid4().hex[:6]}")
    # four receipts in flight on each (ten pooled connections apiece: the server is shared)
    one = await start_stand(mailbox.smtp_port, database_url=database, notifier_prefetch=4)
    two = await start_stand(mailbox.smtp_port, database_url=database, notifier_prefetch=4)
    receipts = [paid(uuid.uuid4(), email=f"c{i}@example.com") for i in range(30)]
    await asyncio.gather(*(one.publish(r) for r in receipts[::2]), *(two.publish(r) for r in receipts[1::2]))
    await mailbox.wait_for(lambda m: m.message_id.startswith("<receipt."), count=30, timeout=60)
    await eventually(lambda: one.stats.consumed + two.stats.consumed >= 30, timeout=15)
    for stand in (one, two):  # each finishes what it has in flight: every 'sent' is recorded
        assert await stand.running.stopped() == 0
    assert one.stats.consumed > 0  # both took their share
    assert two.stats.consumed > 0
    rows = await _fetch(one, NUMBERS)
    assert sorted(r["invoice_seq"] for r in rows) == list(range(1, 31))
    assert {r["state"] for r in rows} == {"sent"}
    by_order = {f"<receipt.{r['order_id']}@paybus>": f"INV-{r['invoice_seq']:06d}" for r in rows}
    assert {m.message_id: _printed_number(m) for m in mailbox.store.list()} == by_order
