"""Issue 13, findings 2 and 6: the webhook verifies by the Stripe SDK's rules and answers 400 to every
malformed header or body, signed or not, never 500 and never a stale event."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from payments.deps import Deps
from payments.main import create_app
from stripe_sim.webhooks import signature_header
from tests.support.payments import SECRET, SERVICE_TOKEN, InMemoryStore, make_deps


def an_event() -> str:
    obj = {"id": "cs_unknown", "status": "complete", "payment_status": "paid", "amount_total": 1,
           "currency": "eur"}  # fmt: skip
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "checkout.session.completed",
             "data": {"object": obj}}  # fmt: skip
    return json.dumps(event)


def v1(body: str, t: int, secret: str = SECRET) -> str:
    return signature_header(secret, body, t).split(",")[1]


@pytest.fixture
def deps() -> Deps:
    return make_deps()


@pytest.fixture
async def client(deps: Deps) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(deps.settings, deps), raise_app_exceptions=False)
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://payments", headers=auth) as c:
        yield c


async def post(client: httpx.AsyncClient, body: str | bytes, header: str | bytes | None) -> httpx.Response:
    headers = {"Stripe-Signature": header} if header is not None else {}
    return await client.post("/webhook", content=body, headers=headers)


def stored(deps: Deps) -> dict[str, Any]:
    assert isinstance(deps.store, InMemoryStore)
    return {"events": deps.store.state.events, "outbox": deps.store.state.outbox}


async def test_a_stale_signature_behind_a_spaced_fresh_timestamp_is_refused(client, deps) -> None:  # type: ignore[no-untyped-def]
    # Finding 2: `t =<now>` is not the key `t` for Stripe's SDK; the old t is the one that counts.
    body, now = an_event(), int(time.time())
    old = now - 400

    response = await post(client, body, f"t ={now},t={old},{v1(body, old)}")

    assert response.status_code == 400
    assert stored(deps) == {"events": {}, "outbox": []}


async def test_a_stale_signature_is_refused_and_a_fresh_one_accepted(client, deps) -> None:  # type: ignore[no-untyped-def]
    body, now = an_event(), int(time.time())

    stale = await post(client, body, signature_header(SECRET, body, now - 400))
    fresh = await post(client, body, signature_header(SECRET, body, now))

    assert (stale.status_code, fresh.status_code) == (400, 200)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t =abc,v1=00",
        "t=abc,v1=00",
        "t=,v1=",
        "v1=00",
        "t",
        ",,,",
        "t=1e3,v1=00",
        "t=99999999999999999999999999,v1=00",
        b"t=\xe9,v1=\xff",
    ],
)
async def test_malformed_signature_headers_answer_400(client, deps, header: str | bytes) -> None:  # type: ignore[no-untyped-def]
    body = an_event()

    response = await post(client, body, header)

    assert response.status_code == 400, response.text
    assert stored(deps) == {"events": {}, "outbox": []}


async def test_a_missing_header_answers_400(client, deps) -> None:  # type: ignore[no-untyped-def]
    assert (await post(client, an_event(), None)).status_code == 400


async def test_a_spaced_malformed_timestamp_with_a_valid_signature_answers_400(client, deps) -> None:  # type: ignore[no-untyped-def]
    # Finding 6: `t =abc` raised ValueError (500) in our own parser.
    body, now = an_event(), int(time.time())

    response = await post(client, body, f"t =abc,t={now},{v1(body, now)}")

    assert response.status_code == 200  # the SDK reads only the exact key `t`: a valid, fresh event
    again = await post(client, body, f"t=abc,{v1(body, now)}")
    assert again.status_code == 400


async def test_duplicated_v1_entries_pass_only_if_one_matches(client, deps) -> None:  # type: ignore[no-untyped-def]
    body, now = an_event(), int(time.time())
    good, bad = v1(body, now), v1(body, now, "whsec_other")

    forged = await post(client, body, f"t={now},{bad},{bad}")
    rolled = await post(client, body, f"t={now},{bad},{good}")

    assert (forged.status_code, rolled.status_code) == (400, 200)


@pytest.mark.parametrize("depth", [300, 100_000])
async def test_a_deeply_nested_signed_body_answers_400(client, deps, depth: int) -> None:  # type: ignore[no-untyped-def]
    # Finding 6: json.loads raised RecursionError (500) on this.
    body = '{"id": "evt_deep", "object": "event", "type": "x", "data": ' + "[" * depth + "]" * depth + "}"

    signed = await post(client, body, signature_header(SECRET, body))
    unsigned = await post(client, body, "t=1,v1=00")

    assert (signed.status_code, unsigned.status_code) == (400, 400)
    assert stored(deps) == {"events": {}, "outbox": []}


async def test_a_signed_body_that_is_not_utf8_answers_400(client, deps) -> None:  # type: ignore[no-untyped-def]
    body = b'{"id": "\xff"}'

    response = await post(client, body, "t=1,v1=00")

    assert response.status_code == 400


def _metric(deps: Deps, name: str, **labels: str) -> float:
    return deps.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_each_rejection_is_counted_by_its_reason_and_nothing_else_is_counted_verified(  # type: ignore[no-untyped-def]
    client, deps
) -> None:
    body, now = an_event(), int(time.time())
    attempts = {
        "missing_signature": (body, None),
        "bad_signature": (body, signature_header("whsec_other", body, now)),
        "stale_timestamp": (body, signature_header(SECRET, body, now - 400)),
        "bad_body": (b'{"id": "\xff"}', "t=1,v1=00"),
    }
    for reason, (content, header) in attempts.items():
        assert (await post(client, content, header)).status_code == 400, reason
    not_an_event = '{"object": "charge"}'
    assert (await post(client, not_an_event, signature_header(SECRET, not_an_event))).status_code == 400

    rejected = {r: _metric(deps, "payments_webhook_rejected_total", reason=r) for r in attempts}
    assert rejected == {"missing_signature": 1, "bad_signature": 1, "stale_timestamp": 1, "bad_body": 2}
    assert _metric(deps, "payments_webhook_verified_total") == 1  # the signed body that is no event


async def test_a_redelivered_event_is_verified_again_and_counted_as_a_duplicate_not_an_event(  # type: ignore[no-untyped-def]
    client, deps
) -> None:
    body = an_event()

    for _ in range(3):
        assert (await post(client, body, signature_header(SECRET, body))).status_code == 200

    assert _metric(deps, "payments_webhook_verified_total") == 3
    kind = "checkout.session.completed"
    assert _metric(deps, "payments_webhook_events_total", type=kind, note="unknown_session") == 1
    assert _metric(deps, "payments_webhook_duplicates_total", type=kind) == 2
