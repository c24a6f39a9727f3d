"""Chaos room: one scenario = a payment stream, one fault in it, then count what was lost or doubled."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from chaos.driver import Driver, Payment
from chaos.faults import FAULTS, Lab
from chaos.observer import PaidEvents, receipts
from chaos.system import load_run
from chaos.watch import ReadinessWatch, counters, delta, describe

RECOVERY_BOUND = 60.0  # seconds after the last fault by which every payment must have settled
QUIET = 3.0  # seconds to wait after settling for late duplicates
EVIDENCE = ("Traceback", "ERROR", "CRITICAL", "WARNING", "Error:", "exited with")


@dataclass
class Result:
    chaos: str
    payments: int  # confirmed by the Stripe stand-in
    lost: int  # confirmed, but the order is not paid or has no receipt once settled
    duplicate_effects: int  # a second order.paid (new message id) or a second receipt for one order
    recovered_s: float | None  # the longest any payment waited past the fault's end; None: some never did
    abandoned: int = 0  # customers who gave up before paying (the system refused them for a minute)
    not_paid: int = 0
    no_receipt: int = 0
    duplicate_order_paid: int = 0
    duplicate_receipts: int = 0
    restarts: int = 0  # processes the supervisor restarted during the scenario
    not_ready: dict[str, str] = field(default_factory=dict)  # what /readyz said meanwhile, per process
    metrics: dict[str, float] = field(default_factory=dict)  # watched counters' change, over replicas

    @property
    def ok(self) -> bool:
        return (
            self.payments > 0
            and self.lost == 0
            and self.duplicate_effects == 0
            and self.recovered_s is not None
            and self.recovered_s <= RECOVERY_BOUND
        )

    def line(self) -> str:
        return json.dumps(asdict(self))


@dataclass
class Observers:
    driver: Driver
    paid: PaidEvents
    mailbox: httpx.AsyncClient


async def run_scenario(lab: Lab, seen: Observers, name: str, count: int, rate: float) -> Result:
    """A payment stream with the fault a third into it; then wait for it to settle and count."""
    marks = {m.name: _size(m.log_path) for m in lab.supervisor.members}
    restarts = lab.supervisor.restarts
    lab.note(f"--- {name}: {count} payments at {rate}/s")
    before = await counters(lab.supervisor.members)
    watch = ReadinessWatch(lab.supervisor.members)
    watch.start()
    lab.stream_started = time.time()
    stream = asyncio.create_task(seen.driver.stream(count, rate, name))
    if name != "webhook-storm":  # the storm runs beside the whole stream
        await asyncio.sleep(count / rate / 3)
    fault_end = await FAULTS[name](lab, stream)
    payments = await stream
    confirmed = {p.order_id: p for p in payments if p.confirmed_at is not None and p.order_id}
    last = max([fault_end, *(p.confirmed_at or 0 for p in confirmed.values())])
    settled, missing = await _settle(seen, confirmed, last + RECOVERY_BOUND)
    await asyncio.sleep(QUIET)
    result = await _count(seen, name, payments, confirmed, settled, missing, fault_end)
    result.restarts = lab.supervisor.restarts - restarts
    result.not_ready = describe(await watch.stop())
    result.metrics = delta(before, await counters(lab.supervisor.members))
    if not result.ok:
        lab.notes.extend(_evidence(lab, marks, missing, await _doubled(seen, set(confirmed))))
    return result


async def _count(
    seen: Observers,
    name: str,
    payments: list[Payment],
    confirmed: dict[str, Payment],
    settled: dict[str, float],
    missing: dict[str, str],
    fault_end: float,
) -> Result:
    mail = await receipts(seen.mailbox)
    dup_paid = seen.paid.duplicates(set(confirmed))
    dup_mail = sum(max(0, len(mail.get(o, ())) - 1) for o in confirmed)
    waits = [settled[o] - max(p.confirmed_at or 0, fault_end) for o, p in confirmed.items() if o in settled]
    return Result(
        chaos=name,
        payments=len(confirmed),
        lost=len(missing),
        duplicate_effects=dup_paid + dup_mail,
        recovered_s=None if missing else round(max([0.0, *waits]), 1),
        abandoned=sum(1 for p in payments if p.confirmed_at is None),
        not_paid=sum(1 for why in missing.values() if why != "no receipt"),
        no_receipt=sum(1 for why in missing.values() if why == "no receipt"),
        duplicate_order_paid=dup_paid,
        duplicate_receipts=dup_mail,
    )


async def _doubled(seen: Observers, ids: set[str]) -> dict[str, str]:
    mail = await receipts(seen.mailbox)
    doubled = {o: f"{len(seen.paid.ids.get(o, ()))} order.paid" for o in ids if seen.paid.duplicates({o})}
    return doubled | {o: f"{len(mail[o])} receipts" for o in ids if len(mail.get(o, ())) > 1}


async def _settle(
    seen: Observers, confirmed: dict[str, Payment], deadline: float
) -> tuple[dict[str, float], dict[str, str]]:
    """Poll until every confirmed payment's order is paid with a receipt, or the deadline passes.

    Returns when each settled (the later of its first order.paid and its first receipt) and, for the
    others, what is missing."""
    settled: dict[str, float] = {}
    pending = set(confirmed)
    status: dict[str, str | None] = {}
    while True:
        try:
            mail = await receipts(seen.mailbox)
        except httpx.HTTPError:
            mail = {}
        for order_id in [o for o in pending if o in mail]:
            status[order_id] = await seen.driver.order_status(order_id)
            if status[order_id] == "paid":
                paid_at = seen.paid.first_seen.get(order_id, 0.0)
                settled[order_id] = max(min(mail[order_id]), paid_at)
                pending.discard(order_id)
        if not pending or time.time() > deadline:
            break
        await asyncio.sleep(1)
    missing = {}
    for order_id in pending:
        state = status.get(order_id) or await seen.driver.order_status(order_id)
        missing[order_id] = "no receipt" if state == "paid" else f"order {state}"
    return settled, missing


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _evidence(lab: Lab, marks: dict[str, int], missing: dict[str, str], doubled: dict[str, str]) -> list[str]:
    """What each process logged during a failed scenario: errors, warnings and tracebacks, a few each;
    then, for each order lost or doubled, every line that names it (its id is the correlation id)."""
    out: list[str] = []
    logs: dict[str, list[str]] = {}
    for member in lab.supervisor.members:
        with open(member.log_path, "rb") as log:
            log.seek(marks.get(member.name, 0))
            logs[member.name] = log.read().decode(errors="replace").splitlines()
        hits = [line for line in logs[member.name] if any(word in line for word in EVIDENCE)]
        if hits:
            out.append(f"  {member.log_path} ({len(hits)} lines like these):")
            out.extend(f"    {line[:300]}" for line in hits[:6])
    for order, why in [*sorted(missing.items())[:3], *sorted(doubled.items())[:3]]:
        out.append(f"  order {order}: {why}; the lines that name it:")
        named = sorted(
            line for lines in logs.values() for line in lines if order in line and "access" not in line
        )
        out.extend(f"    {line[:300]}" for line in named[:25])
    return out


def table(results: list[Result]) -> str:
    head = (
        f"{'chaos':<26}{'payments':>9}{'lost':>6}{'dup':>5}{'recovered_s':>13}{'abandoned':>11}"
        f"{'restarts':>10}  ok"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        recovered = "never" if r.recovered_s is None else f"{r.recovered_s:.1f}"
        rows.append(
            f"{r.chaos:<26}{r.payments:>9}{r.lost:>6}{r.duplicate_effects:>5}{recovered:>13}"
            f"{r.abandoned:>11}{r.restarts:>10}  {'yes' if r.ok else 'NO'}"
        )
    return "\n".join(rows)


async def wait_ready(lab: Lab, within: float) -> list[str]:
    late: list[str] = await asyncio.to_thread(load_run().wait_ready, lab.supervisor.members, within)
    return late
