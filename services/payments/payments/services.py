"""payments use cases: start a checkout for an order, record a verified Stripe event (webhook), issue
the refunds of second payments (worker)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from messaging.db import Outage, unavailable
from messaging.event import Envelope
from payments import domain
from payments.deps import Deps, Store
from payments.domain import (
    HANDLED_TYPES,
    REFUND_EVENT,
    REFUND_EVENTS,
    SESSION_EVENTS,
    Effect,
    Order,
    Outcome,
    PaymentFacts,
    Refund,
    RefundSeen,
    Session,
    SessionStatus,
    StripeEvent,
    apply_refund,
    apply_refund_object,
    apply_session_event,
)
from payments.metrics import RefundMetrics
from payments.repository import Repository
from payments.stripe_gateway import RemoteSession, StripeApi, StripeRefused, StripeUnavailable

log = logging.getLogger(__name__)
# A rule: the session, the event, the session's refunds, and the session that paid the order if another.
Rule = Callable[[Session, StripeEvent, Sequence[Refund], str | None], Effect]
MAX_REFUND_BACKOFF = 300.0  # seconds between calls to an unavailable Stripe for one refund, at most


class UnknownOrder(LookupError):
    """The orders service has no such order: 404."""


@dataclass(frozen=True)
class CheckoutResult:
    session: Session
    created: bool


async def start_checkout(order_id: UUID, deps: Deps) -> CheckoutResult:
    """One open session per order: reuse it, replay an unanswered attempt, or reserve the next one.

    The order (lines, total, currency, status) comes from the orders service, its owner; raises
    UnknownOrder, OrdersUnavailable, NotPayable, InconsistentOrder, StripeRefused or StripeUnavailable.
    """
    order = await deps.orders.get_order(order_id)
    if order is None:
        raise UnknownOrder(f"orders knows no order {order_id}")
    domain.check_payable(order, deps.clock())
    async with deps.store.order_lock(order.id):
        try:
            return await _checkout_locked(order, deps)
        except StripeRefused:
            # Stripe refused a replayed attempt (e.g. its expires_at is now too close): one fresh try.
            return await _checkout_locked(order, deps)


async def _checkout_locked(order: Order, deps: Deps) -> CheckoutResult:
    now = deps.clock()
    async with deps.store.transaction() as repo:
        latest = await repo.latest_session(order.id)
        if latest is not None and latest.reusable(now):
            if domain.charges(latest, order):
                return CheckoutResult(latest, created=False)
            log.error(
                "open session %s for order %s asks %d %s, the order is %d %s: not reused, a new attempt",
                latest.session_id, order.id, latest.amount, latest.currency, order.total, order.currency,
            )  # fmt: skip
        domain.check_retry(latest)
        session = latest
        # An unanswered attempt is replayed only while it asks the order's amount; else the next one.
        if session is None or not (
            session.status is SessionStatus.CREATING and domain.charges(session, order)
        ):
            attempt = session.attempt + 1 if session else 1
            expires = domain.expires_at(order.payment_deadline, now, deps.settings.payments_min_expires_in)
            session = domain.new_session(
                order, attempt, deps.settings.public_url, expires, deps.settings.tax_rates
            )
            await repo.insert_session(session)
    try:
        created = await deps.stripe.create_session(session.request, session.idempotency_key)
    except StripeRefused as exc:
        log.error("Stripe refused checkout %s for order %s: %s", session.idempotency_key, order.id, exc)
        async with deps.store.transaction() as repo:
            await repo.mark_failed(session)
        raise
    async with deps.store.transaction() as repo:
        await repo.mark_created(session, created.id, created.url)
    log.info("checkout session %s for order %s (attempt %d)", created.id, order.id, session.attempt)
    opened = replace(session, status=SessionStatus.OPEN, session_id=created.id, url=created.url)
    return CheckoutResult(opened, created=True)


async def record_stripe_event(body: bytes, event: StripeEvent, deps: Deps) -> str:
    """Store the event and its payment events in one transaction; returns what it did.

    A repeat of a stored event (Stripe delivers at least once; the sweep's late webhooks) is answered
    before Stripe is asked anything for it; `add_event` stays the check that decides, for two copies
    racing past the first one.
    """
    async with deps.store.transaction() as repo:
        stored = bool(await repo.known_events([event.id]))
    if stored:
        return _duplicate(event, deps)
    remote = await _refund_session_hint(event, deps)
    facts = await _paid_facts(event, deps)
    async with deps.store.transaction() as repo:
        if not await repo.add_event(event, body):
            return _duplicate(event, deps)
        note = await _apply(repo, event, remote, facts)
        await repo.note_event(event.id, note)
    deps.metrics.webhook_events.labels(event.type, note).inc()
    return note


def _duplicate(event: StripeEvent, deps: Deps) -> str:
    deps.metrics.webhook_duplicates.labels(event.type).inc()
    return "duplicate"


async def _refund_session_hint(event: StripeEvent, deps: Deps) -> RemoteSession | None:
    """A refund whose PaymentIntent we have not seen yet (webhooks reordered): ask Stripe for its session.

    Done before the transaction: no network call while rows are locked. Stripe being away raises,
    the webhook answers 5xx and Stripe delivers the event again later.
    """
    pi = event.payment_intent
    if event.type not in REFUND_EVENTS or pi is None:
        return None
    async with deps.store.transaction() as repo:
        if await repo.session_by_payment_intent(pi) is not None:
            return None
    return await deps.stripe.session_for_payment_intent(pi)


async def _paid_facts(event: StripeEvent, deps: Deps) -> PaymentFacts | None:
    """A success: how it was paid and the tax, for the invoice. The webhook's session has neither (its
    payment intent is an id, its tax breakdown is not expanded), so Stripe is asked, before the
    transaction like the refund hint; Stripe being away raises and the event is delivered again."""
    session_id = event.object.get("id")
    if event.type not in SESSION_EVENTS or domain.session_outcome(event) is not Outcome.SUCCEEDED:
        return None
    return await deps.stripe.paid_facts(session_id) if isinstance(session_id, str) else None


def _session_rule(facts: PaymentFacts | None) -> Rule:
    def rule(session: Session, event: StripeEvent, _: Sequence[Refund], paid_by: str | None) -> Effect:
        return apply_session_event(session, event, paid_by, facts)

    return rule


async def _apply(
    repo: Repository, event: StripeEvent, remote: RemoteSession | None, facts: PaymentFacts | None
) -> str:
    if event.type not in HANDLED_TYPES:
        return "ignored"
    if event.type in SESSION_EVENTS:
        session_id = event.object.get("id")
        found_id = session_id if isinstance(session_id, str) else None
        return await _save(repo, event, found_id, _session_rule(facts))
    if event.type in REFUND_EVENTS and event.payment_intent is not None:
        found = await repo.session_by_payment_intent(event.payment_intent)
        session_id = found.session_id if found is not None else (remote.id if remote is not None else None)
        rule = apply_refund if event.type == REFUND_EVENT else apply_refund_object
        return await _save(repo, event, session_id, rule)
    return "ignored"


async def _locked(repo: Repository, session_id: str | None) -> tuple[Session | None, str | None]:
    """The session, with every session of its order locked, and the session that paid the order
    already if it is another one (only one session's success pays an order)."""
    if session_id is None:
        return None, None
    sessions = await repo.lock_order_sessions(session_id)
    session = next((s for s in sessions if s.session_id == session_id), None)
    paid_by = next(
        (s.session_id for s in sessions
         if s.outcome is Outcome.SUCCEEDED and s.duplicate_of is None and s.session_id != session_id),
        None,
    )  # fmt: skip
    return session, paid_by


async def _save(repo: Repository, event: StripeEvent, session_id: str | None, rule: Rule) -> str:
    session, paid_by = await _locked(repo, session_id)
    if session is None:
        log.warning("stripe event %s (%s) is about no session of ours", event.id, event.type)
        return "unknown_session"
    assert session.session_id is not None
    refunds = await repo.session_refunds(session.session_id) if event.type in REFUND_EVENTS else []
    effect = rule(session, event, refunds, paid_by)
    if effect.mismatch is not None:
        m = effect.mismatch
        log.error(
            "stripe event %s (%s) for session %s, order %s: amount %s %s, expected %s %s; parked for review",
            event.id, event.type, session.session_id, session.order_id,
            m.received_amount, m.received_currency, m.expected_amount, m.expected_currency,
        )  # fmt: skip
        await repo.add_review(event, session, effect.mismatch)
    await _persist(repo, session, effect, event.id)
    return effect.note


async def _persist(repo: Repository, session: Session, effect: Effect, cause: str) -> None:
    """The session, its refunds and the events they publish (outbox), in the caller's transaction."""
    await repo.save_session(effect.session)
    if effect.session.duplicate_of is not None and session.duplicate_of is None:
        log.warning(
            "stripe event %s: session %s is a second payment for order %s (paid by session %s): "
            "refunding %d %s",
            cause, session.session_id, session.order_id, effect.session.duplicate_of,
            effect.session.amount, effect.session.currency,
        )  # fmt: skip
    for refund in effect.refunds:
        await repo.save_refund(refund)
    for payment_event in effect.events:
        envelope = Envelope.wrap(payment_event, correlation_id=str(session.order_id))
        await repo.add_to_outbox(envelope)
        log.info(
            "stripe event %s -> %s message %s, correlation %s",
            cause, envelope.type, envelope.id, envelope.correlation_id,
        )  # fmt: skip


# --- the refunds payments itself issues (second payments), from the worker ----------------------


async def issue_due_refunds(
    store: Store, stripe: StripeApi, *, limit: int = 20, metrics: RefundMetrics | None = None
) -> int:
    """Ask Stripe for every refund decided and not yet issued; returns how many Stripe accepted.

    Outside any transaction: the Refund API call carries the refund's idempotency key, so a call
    replayed after a crash (or by a second worker) returns the refund Stripe already made.
    """
    async with store.transaction() as repo:
        due = await repo.due_refunds(limit)
    issued = 0
    for refund in due:
        result = await _issue(refund, store, stripe)
        if metrics is not None:
            metrics.refunds.labels(result).inc()
        issued += result == "issued"
    return issued


async def _issue(refund: Refund, store: Store, stripe: StripeApi) -> str:
    """Returns what happened: issued, unavailable (tried again later) or refused (for a person)."""
    assert refund.idempotency_key is not None
    try:
        seen = await stripe.create_refund(domain.refund_request(refund), refund.idempotency_key)
        if (seen.amount, seen.currency) != (refund.amount, refund.currency):
            # not the refund we asked for: never recorded as ours, never asked again
            raise StripeRefused(f"Stripe answered refund {seen.id} of {seen.amount} {seen.currency}")
    except (StripeRefused, StripeUnavailable) as exc:
        refused = isinstance(exc, StripeRefused)
        async with store.transaction() as repo:
            attempts = await repo.refund_attempt(
                refund, str(exc), refused=refused, max_wait=MAX_REFUND_BACKOFF
            )
        (log.error if refused else log.warning)(
            "refund %s of session %s (order %s) %s after %d attempt(s): %s",
            refund.idempotency_key, refund.checkout_session_id, refund.order_id,
            "refused by Stripe, a person must look" if refused else "not issued yet", attempts, exc,
        )  # fmt: skip
        return "refused" if refused else "unavailable"
    async with store.transaction() as repo:
        await record_refund(repo, refund.checkout_session_id, seen, refund.decided_by or "")
    log.info(
        "refund %s issued as %s (%s) for session %s, order %s",
        refund.idempotency_key, seen.id, seen.status, refund.checkout_session_id, refund.order_id,
    )  # fmt: skip
    return "issued"


async def record_refund(repo: Repository, session_id: str, seen: RefundSeen, cause: str) -> None:
    """A refund as Stripe answered it, recorded as a webhook about it would be."""
    session, paid_by = await _locked(repo, session_id)
    if session is None:
        raise LookupError(f"refund {seen.id}: no session {session_id}")
    refunds = await repo.session_refunds(session_id)
    await _persist(repo, session, domain.refund_seen(session, refunds, seen, cause, paid_by), cause)


async def run_refund_issuer(
    store: Store, stripe: StripeApi, *, interval: float, metrics: RefundMetrics | None = None
) -> None:
    """The worker's supervised loop: issue due refunds, then wait `interval` seconds.

    An unavailable database pauses it (growing, at most 5 s) like the relay and the scheduler, instead
    of ending the task for the supervisor to restart (make chaos, db-connections-killed, counted
    `paybus_task_restarts_total{task="refunds"}`); anything else is a bug and escapes to the supervisor.
    """
    outage = Outage("refund issuer")
    while True:
        try:
            await issue_due_refunds(store, stripe, metrics=metrics)
        except Exception as exc:
            if not unavailable(exc):
                raise
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.succeeded()
        await asyncio.sleep(interval)
