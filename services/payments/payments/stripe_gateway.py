"""payments Stripe gateway: the only module that imports `stripe` (async SDK calls, webhook signatures)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

import stripe

from messaging.events.payments import PaymentMethod, Tax, TaxLine
from payments.domain import PaymentFacts, RefundSeen, parse_refund

if TYPE_CHECKING:
    from stripe.params import EventListParams, RefundCreateParams
    from stripe.params.checkout import SessionCreateParams

log = logging.getLogger(__name__)
Obj = dict[str, Any]
# A paid session's charge (how it was paid) and its tax per rate: neither is in the webhook's session.
PAID_EXPAND = ["payment_intent.latest_charge", "total_details.breakdown"]
TOLERANCE = 300  # seconds a signature's timestamp may be old (Stripe's default; the SDK checks it)


class WebhookRejected(Exception):
    """The Stripe-Signature header does not prove the body came from Stripe, now: 400.

    `reason` (a metric label): `missing_signature`, `bad_signature` (unparsable, or no v1 signature
    matches any secret), `stale_timestamp` (a matching signature older than the tolerance: a replay),
    `bad_body` (not UTF-8, so nothing to verify).
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class StripeRefused(Exception):
    """Stripe refused the request itself (invalid parameters, idempotency conflict): not retryable as is."""


class StripeUnavailable(Exception):
    """Stripe did not answer usefully (network, 5xx, rate limit, credentials): try again later."""


@dataclass(frozen=True)
class CreatedSession:
    id: str
    url: str | None


@dataclass(frozen=True)
class RemoteSession:
    id: str
    status: str
    payment_status: str
    payment_intent_id: str | None


class StripeApi(Protocol):
    """The Stripe calls payments makes; StripeGateway is the real one, unit tests use a fake."""

    async def create_session(self, params: dict[str, Any], idempotency_key: str) -> CreatedSession: ...
    async def retrieve_session(self, session_id: str) -> RemoteSession | None: ...
    async def session_for_payment_intent(self, payment_intent_id: str) -> RemoteSession | None: ...
    async def create_refund(self, params: dict[str, Any], idempotency_key: str) -> RefundSeen: ...
    async def list_events(self, types: Sequence[str], created_gte: int) -> list[bytes]: ...
    async def paid_facts(self, session_id: str) -> PaymentFacts | None: ...
    async def aclose(self) -> None: ...


def _remote(session: stripe.checkout.Session) -> RemoteSession:
    pi = session.payment_intent
    pi_id = pi if isinstance(pi, str) or pi is None else pi.id
    return RemoteSession(session.id, str(session.status), str(session.payment_status), pi_id)


class StripeGateway:
    """The official SDK's StripeClient on httpx, used through its async methods."""

    def __init__(self, api_key: str, api_base: str | None, *, timeout: float, retries: int) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout)
        bases: dict[str, str] = {"api": api_base.rstrip("/")} if api_base else {}
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=cast("stripe._base_address.BaseAddresses", bases),
            http_client=self._http,
            max_network_retries=retries,
        )

    async def create_session(self, params: dict[str, Any], idempotency_key: str) -> CreatedSession:
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                cast("SessionCreateParams", params), {"idempotency_key": idempotency_key}
            )
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            raise StripeRefused(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        return CreatedSession(session.id, session.url)

    async def retrieve_session(self, session_id: str) -> RemoteSession | None:
        try:
            return _remote(await self._client.v1.checkout.sessions.retrieve_async(session_id))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc

    async def session_for_payment_intent(self, payment_intent_id: str) -> RemoteSession | None:
        """The Checkout Session that created a PaymentIntent, if Stripe knows one."""
        try:
            found = await self._client.v1.checkout.sessions.list_async(
                {"payment_intent": payment_intent_id, "limit": 1}
            )
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        return _remote(found.data[0]) if found.data else None

    async def create_refund(self, params: dict[str, Any], idempotency_key: str) -> RefundSeen:
        """Stripe's Refund API; the idempotency key makes a replayed call return the same refund."""
        try:
            refund = await self._client.v1.refunds.create_async(
                cast("RefundCreateParams", params), {"idempotency_key": idempotency_key}
            )
        except (stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
            raise StripeRefused(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        seen = parse_refund(refund.to_dict())
        if seen is None:
            raise StripeUnavailable(f"Stripe answered the refund {idempotency_key} with no usable refund")
        return seen

    async def list_events(self, types: Sequence[str], created_gte: int) -> list[bytes]:
        """Every event of `types` Stripe created at or after `created_gte` (Unix seconds), oldest first,
        each as the JSON body a webhook would carry. Stripe lists newest first and keeps 30 days; the
        SDK's auto-pagination follows `starting_after` page by page."""
        params: EventListParams = {"types": list(types), "created": {"gte": created_gte}, "limit": 100}
        try:
            page = await self._client.v1.events.list_async(params)
            events = [json.dumps(e.to_dict(for_json=True)).encode() async for e in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        events.reverse()
        return events

    async def paid_facts(self, session_id: str) -> PaymentFacts | None:
        """How a paid session was paid and the tax it charged (None: Stripe knows no such session)."""
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(
                session_id, {"expand": PAID_EXPAND}
            )
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise StripeUnavailable(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        return facts_of(session.to_dict())

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]


def _dict(value: Any, key: str) -> Obj:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _str(value: Obj, key: str) -> str | None:
    found = value.get(key)
    return found if isinstance(found, str) and found else None


def _method(details: Obj) -> PaymentMethod | None:
    """A charge's `payment_method_details`: {type: card, card: {brand, last4, wallet: {type}}},
    {type: sepa_debit, sepa_debit: {last4, ...}}, ..."""
    kind = _str(details, "type")
    if kind is None:
        return None
    own = _dict(details, kind)
    card = kind == "card"
    wallet = _str(_dict(own, "wallet"), "type") if card else None
    return PaymentMethod(
        type=kind, brand=_str(own, "brand") if card else None, last4=_str(own, "last4"), wallet=wallet
    )


def _tax_line(entry: Obj) -> TaxLine | None:
    rate, amount, taxable = _dict(entry, "rate"), entry.get("amount"), entry.get("taxable_amount")
    if not isinstance(amount, int):
        return None
    percentage = rate.get("percentage")
    return TaxLine(
        display_name=_str(rate, "display_name") or "Tax",
        percentage=Decimal(str(percentage)) if isinstance(percentage, int | float) else None,
        inclusive=rate.get("inclusive") is True,
        amount=amount,
        taxable_amount=taxable if isinstance(taxable, int) else None,
        jurisdiction=_str(rate, "jurisdiction") or _str(rate, "country"),
    )


def facts_of(session: Obj) -> PaymentFacts:
    """From a Checkout Session retrieved with `payment_intent.latest_charge` and
    `total_details.breakdown` expanded; what it does not say stays None."""
    charge = _dict(_dict(session, "payment_intent"), "latest_charge")
    totals = _dict(session, "total_details")
    entries = _dict(totals, "breakdown").get("taxes")
    lines = (
        tuple(line for e in entries if isinstance(e, dict) and (line := _tax_line(e)))
        if isinstance(entries, list)
        else ()
    )
    amount = totals.get("amount_tax")
    tax = Tax(amount=amount, lines=lines) if isinstance(amount, int) and (amount or lines) else None
    return PaymentFacts(_method(_dict(charge, "payment_method_details")), tax)


class WebhookVerifier:
    """Stripe's own WebhookSignature.verify_header against every configured secret (several in a rotation).

    The SDK parses the header and applies the tolerance (300 s into the past, as Stripe documents);
    a header it cannot parse, a stale timestamp or no matching v1 are all one answer: 400. The SDK's
    error names no cause, so a failure is verified once more without the tolerance: a signature that
    matches then is stale.
    """

    def __init__(self, secrets: tuple[str, ...], tolerance: int = TOLERANCE) -> None:
        if not secrets:
            raise ValueError("at least one webhook signing secret is needed")
        self._secrets = secrets
        self._tolerance = tolerance

    def verify(self, body: bytes, header: str | None) -> None:
        if not header:
            raise WebhookRejected("missing Stripe-Signature header", "missing_signature")
        try:
            payload = body.decode("utf-8")  # the SDK decodes outside its own error handling
        except UnicodeDecodeError:
            raise WebhookRejected("body is not UTF-8", "bad_body") from None
        errors = []
        for secret in self._secrets:
            try:
                stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=self._tolerance)
            except stripe.SignatureVerificationError as exc:
                errors.append(str(exc))
            else:
                return
        stale = any(self._matches(payload, header, secret) for secret in self._secrets)
        raise WebhookRejected(errors[-1], "stale_timestamp" if stale else "bad_signature")

    @staticmethod
    def _matches(payload: str, header: str, secret: str) -> bool:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            return False
        return True
