"""payments use cases: start a checkout for an order, record a verified Stripe event (webhook)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from uuid import UUID

from messaging.event import Envelope
from payments import domain
from payments.deps import Deps
from payments.domain import (
    REFUND_EVENT,
    SESSION_EVENTS,
    Effect,
    Order,
    Session,
    SessionStatus,
    StripeEvent,
    apply_refund,
    apply_session_event,
)
from payments.repository import Repository
from payments.stripe_gateway import RemoteSession, StripeRefused

log = logging.getLogger(__name__)
Rule = Callable[[Session, StripeEvent], Effect]


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
            session = domain.new_session(order, attempt, deps.settings.public_url, expires)
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
    """Store the event and its payment events in one transaction; returns what it did."""
    remote = await _refund_session_hint(event, deps)
    async with deps.store.transaction() as repo:
        if not await repo.add_event(event, body):
            deps.metrics.webhook_duplicates.labels(event.type).inc()
            return "duplicate"
        note = await _apply(repo, event, remote)
        await repo.note_event(event.id, note)
    deps.metrics.webhook_events.labels(event.type, note).inc()
    return note


async def _refund_session_hint(event: StripeEvent, deps: Deps) -> RemoteSession | None:
    """A refund whose PaymentIntent we have not seen yet (webhooks reordered): ask Stripe for its session.

    Done before the transaction: no network call while rows are locked. Stripe being away raises,
    the webhook answers 5xx and Stripe delivers the event again later.
    """
    pi = event.payment_intent
    if event.type != REFUND_EVENT or pi is None:
        return None
    async with deps.store.transaction() as repo:
        if await repo.lock_session_by_payment_intent(pi) is not None:
            return None
    return await deps.stripe.session_for_payment_intent(pi)


async def _apply(repo: Repository, event: StripeEvent, remote: RemoteSession | None) -> str:
    if event.type in SESSION_EVENTS:
        session_id = event.object.get("id")
        session = await repo.lock_session(session_id) if isinstance(session_id, str) else None
        return await _save(repo, event, session, apply_session_event)
    if event.type == REFUND_EVENT and event.payment_intent is not None:
        session = await repo.lock_session_by_payment_intent(event.payment_intent)
        if session is None and remote is not None:
            session = await repo.lock_session(remote.id)
        return await _save(repo, event, session, apply_refund)
    return "ignored"


async def _save(repo: Repository, event: StripeEvent, session: Session | None, rule: Rule) -> str:
    if session is None:
        log.warning("stripe event %s (%s) is about no session of ours", event.id, event.type)
        return "unknown_session"
    effect = rule(session, event)
    await repo.save_session(effect.session)
    if effect.mismatch is not None:
        m = effect.mismatch
        log.error(
            "stripe event %s (%s) for session %s, order %s: amount %s %s, expected %s %s; parked for review",
            event.id, event.type, session.session_id, session.order_id,
            m.received_amount, m.received_currency, m.expected_amount, m.expected_currency,
        )  # fmt: skip
        await repo.add_review(event, session, effect.mismatch)
    for payment_event in effect.events:
        envelope = Envelope.wrap(payment_event, correlation_id=str(session.order_id))
        await repo.add_to_outbox(envelope)
        log.info(
            "stripe event %s -> %s message %s, correlation %s",
            event.id, envelope.type, envelope.id, envelope.correlation_id,
        )  # fmt: skip
    return effect.note
