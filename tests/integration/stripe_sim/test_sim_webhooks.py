"""Webhooks: Stripe-signed deliveries, retries with backoff, per-event independence, chaos, expiry."""

import asyncio
import contextlib
import json
import time
import uuid

import pytest
import stripe
from starlette.requests import Request
from starlette.responses import Response

from stripe_sim.testing import RunningSim, in_thread, running_sim
from stripe_sim.webhooks import signature_header
from tests.support.stripe_sim_live import (
    SDK_HTTPX_DATA_WARNING,
    SECRETS,
    WEBHOOK_PATH,
    Hub,
    Receiver,
    session_params,
    sim_settings,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


def _ids(receiver: Receiver) -> list[str]:
    return [r.event_id for r in receiver.snapshot()]


async def _event_ids(aclient: stripe.StripeClient) -> list[str]:
    """Every event id, oldest first."""
    return [e.id for e in reversed((await aclient.v1.events.list_async({"limit": 100})).data)]


async def test_deliveries_are_signed_like_stripe_and_in_order(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await sim.pay(session.id)
    emitted = await _event_ids(aclient)

    await eventually(lambda: len(receiver.snapshot()) == len(emitted))
    received = receiver.snapshot()

    assert [r.event_id for r in received] == emitted
    first = received[-1]
    event = stripe.Webhook.construct_event(first.body.decode(), first.headers["stripe-signature"], SECRETS[0])
    assert (event.type, event.data.object["id"]) == ("checkout.session.completed", session.id)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            first.body.decode(), first.headers["stripe-signature"], SECRETS[1]
        )
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["user-agent"].startswith("Stripe/1.0")
    assert json.loads(first.body)["object"] == "event"


def test_signature_header_matches_the_sdk() -> None:
    payload = '{"id": "evt_1", "object": "event"}'
    header = signature_header("whsec_abc", payload, timestamp=int(time.time()))

    assert stripe.WebhookSignature.verify_header(payload, header, "whsec_abc", tolerance=300)
    assert header == stripe.WebhookSignature.generate_signature_header(
        payload, "whsec_abc", int(header[2:].split(",")[0])
    )


async def test_failed_delivery_is_retried_until_2xx(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    receiver.fail_next(500, 503)
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await aclient.v1.checkout.sessions.expire_async(session.id)
    [event_id] = await _event_ids(aclient)

    await eventually(lambda: len(receiver.snapshot()) == 3)
    deliveries = await eventually(lambda: _done(sim, event_id))

    assert _ids(receiver) == [event_id] * 3
    assert [a["status"] for a in deliveries[0]["attempts"]] == [500, 503, 200]
    assert deliveries[0]["delivered"] is True


async def _done(sim: RunningSim, event_id: str) -> list[dict[str, object]] | None:
    deliveries = await sim.deliveries(event_id)
    return deliveries if deliveries and all(d["delivered"] for d in deliveries) else None


async def test_a_failing_event_does_not_hold_back_the_next_one(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    await sim.configure(retry_base=0.5, retry_max=0.5)
    receiver.fail_next(500)
    first = await aclient.v1.checkout.sessions.create_async(session_params())
    second = await aclient.v1.checkout.sessions.create_async(session_params())
    await aclient.v1.checkout.sessions.expire_async(first.id)
    await aclient.v1.checkout.sessions.expire_async(second.id)
    a, b = await _event_ids(aclient)

    await eventually(lambda: _ids(receiver) == [a, b, a])

    assert [r.status for r in receiver.snapshot()] == [500, 200, 200]


async def test_gives_up_after_max_attempts_when_configured(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    await sim.configure(max_attempts=2)
    receiver.fail_next(500, 500, 500)
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    await aclient.v1.checkout.sessions.expire_async(session.id)

    [delivery] = await eventually(lambda: _gave_up(sim))

    assert [a["status"] for a in delivery["attempts"]] == [500, 500]


async def _gave_up(sim: RunningSim) -> list[dict[str, object]] | None:
    deliveries = await sim.deliveries()
    return deliveries if deliveries and deliveries[0]["gave_up"] else None


async def test_chaos_duplicates_and_reorders_deliveries(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    await sim.configure(chaos=True, chaos_max_delay=0.3)
    for _ in range(3):
        session = await aclient.v1.checkout.sessions.create_async(session_params())
        await sim.pay(session.id)
    emitted = await _event_ids(aclient)
    copies = {d["event_id"]: 0 for d in await sim.deliveries()}
    for d in await sim.deliveries():
        copies[d["event_id"]] += 1

    await eventually(lambda: len(receiver.snapshot()) == sum(copies.values()))

    assert set(copies) == set(emitted)
    assert all(2 <= n <= 3 for n in copies.values())
    got = _ids(receiver)
    in_emit_order = [e for e in emitted for _ in range(copies[e])]
    assert got != in_emit_order
    assert sorted(got) == sorted(in_emit_order)


async def test_session_past_expires_at_is_expired_in_the_background(
    aclient: stripe.StripeClient, receiver: Receiver
) -> None:
    session = await aclient.v1.checkout.sessions.create_async(session_params(expires_at=int(time.time()) + 2))

    await eventually(lambda: len(receiver.snapshot()) == 1, timeout=6)

    event = stripe.Webhook.construct_event(
        receiver.snapshot()[0].body.decode(), receiver.snapshot()[0].headers["stripe-signature"], SECRETS[0]
    )
    assert (event.type, event.data.object["id"], event.data.object["status"]) == (
        "checkout.session.expired",
        session.id,
        "expired",
    )
    assert event.request is not None
    assert event.request.id is None
    assert (await aclient.v1.checkout.sessions.retrieve_async(session.id)).status == "expired"


async def test_event_filter_and_switching_delivery_off(
    aclient: stripe.StripeClient, sim: RunningSim, receiver: Receiver
) -> None:
    await sim.configure(events="checkout.session.*")
    paid = await aclient.v1.checkout.sessions.create_async(session_params())
    await sim.pay(paid.id)
    await eventually(lambda: len(receiver.snapshot()) == 1)
    await sim.configure(webhook_url="")
    quiet = await aclient.v1.checkout.sessions.create_async(session_params())
    await aclient.v1.checkout.sessions.expire_async(quiet.id)

    config = await sim.configure()
    expired = (await aclient.v1.events.list_async({"type": "checkout.session.expired"})).data[0]

    assert receiver.snapshot()[0].event_id == (await _event_ids(aclient))[3]
    assert len(await sim.deliveries()) == 1
    assert config["url"] is None
    assert expired.pending_webhooks == 0


class _Overlap(Receiver):
    """Holds each request until `want` are in flight together (or 0.5 s pass); records the most seen."""

    def __init__(self, url: str, want: int) -> None:
        super().__init__(url=url)
        self.want, self.in_flight, self.most = want, 0, 0
        self.enough = asyncio.Event()  # used only on the hub's loop

    async def handle(self, request: Request) -> Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.in_flight >= self.want:
            self.enough.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.enough.wait(), 0.5)
        self.in_flight -= 1
        return await super().handle(request)


@pytest.mark.parametrize(("concurrency", "most"), [(1, range(1, 2)), (4, range(3, 5))])
async def test_webhook_concurrency_sends_first_attempts_side_by_side(
    hub: Hub, concurrency: int, most: range
) -> None:
    name = uuid.uuid4().hex
    overlap = _Overlap(f"{hub.url}/hooks/{name}{WEBHOOK_PATH}", want=3)
    hub.receivers[name] = overlap
    settings = sim_settings(overlap.url, stripe_sim_webhook_concurrency=concurrency)
    try:
        with in_thread(lambda: running_sim(settings)) as sim:
            http = stripe.HTTPXClient()
            aclient = stripe.StripeClient(
                sim.api_key, base_addresses={"api": sim.base_url}, http_client=http, max_network_retries=0
            )
            for _ in range(3):
                session = await aclient.v1.checkout.sessions.create_async(session_params())
                await sim.pay(session.id)
            emitted = await _event_ids(aclient)
            await http.close_async()  # type: ignore[no-untyped-call]
            await eventually(lambda: len(overlap.snapshot()) == len(emitted), timeout=30)
    finally:
        del hub.receivers[name]
    assert overlap.most in most
    assert sorted(_ids(overlap)) == sorted(emitted)
