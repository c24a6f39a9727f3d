"""Events and refunds through the official SDK: listing, filters, partial and full refunds, errors."""

import pytest
import stripe

from stripe_sim.testing import RunningSim
from tests.support.stripe_sim_live import SDK_HTTPX_DATA_WARNING, session_params

pytestmark = pytest.mark.filterwarnings(SDK_HTTPX_DATA_WARNING)


async def _paid_session(aclient: stripe.StripeClient, sim: RunningSim) -> dict[str, object]:
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    return await sim.pay(session.id, "succeeded")


async def test_events_are_listed_newest_first_and_retrievable(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    paid = await _paid_session(aclient, sim)

    events = await aclient.v1.events.list_async()
    completed = await aclient.v1.events.list_async({"type": "checkout.session.completed"})
    checkout_only = await aclient.v1.events.list_async({"type": "checkout.session.*"})
    one = await aclient.v1.events.retrieve_async(completed.data[0].id)

    assert [e.type for e in events.data] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]
    assert [e.type for e in checkout_only.data] == ["checkout.session.completed"]
    assert one.object == "event"
    assert one.id.startswith("evt_")
    assert one.livemode is False
    assert one.api_version
    assert one.data.object["id"] == paid["id"]
    assert one.data.object["payment_status"] == "paid"
    assert one.data.object["payment_intent"] == paid["payment_intent"]


async def test_event_pages_with_cursors(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    await _paid_session(aclient, sim)
    everything = [e.id for e in (await aclient.v1.events.list_async()).data]

    first = await aclient.v1.events.list_async({"limit": 2})
    second = await aclient.v1.events.list_async({"limit": 2, "starting_after": first.data[-1].id})
    back = await aclient.v1.events.list_async({"limit": 2, "ending_before": second.data[0].id})

    assert [e.id for e in first.data] + [e.id for e in second.data] == everything
    assert (first.has_more, second.has_more) == (True, False)
    assert [e.id for e in back.data] == everything[:2]


def _age_events(sim: RunningSim, seconds: int) -> None:
    """Every event so far happened `seconds` earlier (the store is the stand-in's, in its thread)."""
    with sim.sim.store.lock:
        for event in sim.sim.store.events.values():
            event["created"] -= seconds


async def test_events_filter_on_created_ranges_like_stripe(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    await _paid_session(aclient, sim)
    _age_events(sim, 1000)
    newer = await _paid_session(aclient, sim)
    everything = (await aclient.v1.events.list_async({"limit": 100})).data
    cut = min(e.created for e in everything) + 500

    recent = await aclient.v1.events.list_async({"created": {"gte": cut}, "limit": 100})
    older = await aclient.v1.events.list_async({"created": {"lt": cut}, "limit": 100})
    exact = await aclient.v1.events.list_async({"created": everything[0].created, "limit": 100})

    assert len(recent.data) + len(older.data) == len(everything) == 8
    assert {e.data.object["id"] for e in recent.data if e.type.startswith("checkout")} == {newer["id"]}
    assert all(e.created < cut for e in older.data)
    assert [e.id for e in exact.data] == [e.id for e in recent.data]
    with pytest.raises(stripe.InvalidRequestError) as bad:
        await aclient.v1.events.list_async({"created": {"since": cut}})  # type: ignore[typeddict-unknown-key]
    assert (bad.value.code, bad.value.param) == ("parameter_unknown", "created[since]")


async def test_types_are_exact_names_and_exclude_type(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    await _paid_session(aclient, sim)

    named = await aclient.v1.events.list_async({"types": ["checkout.session.completed", "charge.succeeded"]})
    starred = await aclient.v1.events.list_async({"types": ["checkout.session.*"]})

    assert [e.type for e in named.data] == ["checkout.session.completed", "charge.succeeded"]
    assert starred.data == []  # only `type` takes a wildcard
    with pytest.raises(stripe.InvalidRequestError) as both:
        await aclient.v1.events.list_async({"type": "charge.succeeded", "types": ["charge.succeeded"]})
    with pytest.raises(stripe.InvalidRequestError) as many:
        await aclient.v1.events.list_async({"types": [f"x.{n}" for n in range(21)]})
    assert (both.value.param, many.value.param) == ("types", "types")


async def test_a_filtered_list_pages_with_cursors_from_anywhere_in_the_list(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    """The SDK's auto-pagination passes the last id of a filtered page; Stripe also takes a cursor that
    the filter leaves out, as a place in the list."""
    for _ in range(3):
        await _paid_session(aclient, sim)
    everything = [e.id for e in (await aclient.v1.events.list_async({"limit": 100})).data]
    completed = [
        e.id for e in (await aclient.v1.events.list_async({"type": "checkout.session.completed"})).data
    ]

    first = await aclient.v1.events.list_async({"types": ["checkout.session.completed"], "limit": 2})
    paged = [e.id async for e in first.auto_paging_iter()]
    after_other = await aclient.v1.events.list_async(
        {"type": "checkout.session.completed", "starting_after": everything[1]}  # a payment_intent.succeeded
    )
    before_other = await aclient.v1.events.list_async(
        {"type": "checkout.session.completed", "ending_before": everything[-1]}
    )

    assert paged == completed
    assert len(completed) == 3
    assert [e.id for e in after_other.data] == completed[1:]
    assert [e.id for e in before_other.data] == completed


def test_unknown_event_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.events.retrieve("evt_missing")

    assert (err.value.http_status, err.value.code) == (404, "resource_missing")


async def test_partial_then_full_refund_updates_the_charge(
    aclient: stripe.StripeClient, sim: RunningSim
) -> None:
    paid = await _paid_session(aclient, sim)
    pi = await aclient.v1.payment_intents.retrieve_async(str(paid["payment_intent"]))

    partial = await aclient.v1.refunds.create_async({"payment_intent": pi.id, "amount": 1000})
    rest = await aclient.v1.refunds.create_async({"payment_intent": pi.id, "reason": "requested_by_customer"})
    fetched = await aclient.v1.refunds.retrieve_async(partial.id)

    assert pi.status == "succeeded"
    assert (partial.object, partial.amount, partial.status, partial.currency) == (
        "refund",
        1000,
        "succeeded",
        "usd",
    )
    assert partial.id.startswith("re_")
    assert partial.charge == pi.latest_charge
    assert (rest.amount, rest.reason) == (2499, "requested_by_customer")
    assert fetched.id == partial.id
    refunded = await aclient.v1.events.list_async({"type": "charge.refunded"})
    charges = [e.data.object for e in reversed(refunded.data)]
    assert [(c["amount_refunded"], c["refunded"]) for c in charges] == [(1000, False), (3499, True)]
    last = charges[-1]
    assert (last["object"], last["id"], last["payment_intent"], last["amount"]) == (
        "charge",
        pi.latest_charge,
        pi.id,
        3499,
    )
    assert [r["id"] for r in last["refunds"]["data"]] == [rest.id, partial.id]
    previous = refunded.data[0].data.previous_attributes
    assert previous is not None
    assert previous["amount_refunded"] == 1000


async def test_refund_errors_look_like_stripe(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    paid = await _paid_session(aclient, sim)
    pi_id = str(paid["payment_intent"])

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        await aclient.v1.refunds.create_async({"payment_intent": pi_id, "amount": 5000})
    await aclient.v1.refunds.create_async({"payment_intent": pi_id})
    with pytest.raises(stripe.InvalidRequestError) as again:
        await aclient.v1.refunds.create_async({"payment_intent": pi_id})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await aclient.v1.refunds.create_async({"payment_intent": "pi_missing"})

    assert (too_much.value.http_status, too_much.value.code, too_much.value.param) == (
        400,
        "amount_too_large",
        "amount",
    )
    assert "is greater than unrefunded amount on charge ($34.99)" in too_much.value.user_message
    assert again.value.code == "charge_already_refunded"
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (
        400,
        "resource_missing",
        "payment_intent",
    )


async def test_unsettled_payment_cannot_be_refunded(aclient: stripe.StripeClient, sim: RunningSim) -> None:
    await sim.configure(async_payment_delay=60)
    session = await aclient.v1.checkout.sessions.create_async(session_params())
    pending = await sim.pay(session.id, "delayed_succeeded")

    with pytest.raises(stripe.InvalidRequestError) as err:
        await aclient.v1.refunds.create_async({"payment_intent": str(pending["payment_intent"])})

    assert err.value.code == "charge_not_refundable"
