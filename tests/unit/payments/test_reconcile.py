"""The reconciliation sweep on fakes: which events it lists, what it repairs, where its checkpoint goes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments import tasks
from payments.__main__ import reconcile_now
from payments.domain import HANDLED_TYPES, STRIPE_RETENTION, SWEEP_OVERLAP, SweepWindow
from payments.domain import sweep_window as window
from payments.stripe_gateway import StripeUnavailable
from tests.support.payments import fake_stripe, make_deps, store

from .test_payments_routes import an_order, checkout, completed, post_event

NOW = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)


def test_the_first_sweep_lists_all_stripe_keeps_and_later_ones_from_just_before_the_checkpoint() -> None:
    assert window(None, NOW) == SweepWindow(NOW - STRIPE_RETENTION, covers_checkpoint=True)
    checkpoint = NOW - timedelta(minutes=5)
    assert window(checkpoint, NOW) == SweepWindow(checkpoint - SWEEP_OVERLAP, covers_checkpoint=True)
    assert (
        window(NOW - timedelta(days=90), NOW).start == NOW - STRIPE_RETENTION
    )  # never beyond Stripe's 30 days


def test_a_since_window_moves_the_checkpoint_only_when_it_reaches_back_to_it() -> None:
    checkpoint = NOW - timedelta(hours=1)
    short = window(checkpoint, NOW, since=600)
    long = window(checkpoint, NOW, since=7200)
    assert (short.start, short.covers_checkpoint) == (NOW - timedelta(seconds=600), False)
    assert (long.start, long.covers_checkpoint) == (NOW - timedelta(seconds=7200), True)
    assert window(None, NOW, since=600).covers_checkpoint is False  # nothing before it was ever listed
    assert window(None, NOW, since=90 * 86400).covers_checkpoint is True


def stripe_event(event: dict[str, Any], created: datetime) -> bytes:
    return json.dumps(event | {"created": int(created.timestamp()), "livemode": False}).encode()


async def test_a_sweep_applies_only_the_events_not_stored_through_the_webhook_path(client, deps) -> None:  # type: ignore[no-untyped-def]
    deps.clock = lambda: NOW
    sessions = [(await checkout(client, deps, an_order())).json()["session_id"] for _ in range(3)]
    events = [completed(s) for s in sessions]
    assert (await post_event(client, events[0])).status_code == 200  # the webhook got this one
    fake_stripe(deps).events = [stripe_event(e, NOW - timedelta(minutes=3)) for e in events]

    first = await tasks.sweep(deps)
    second = await tasks.sweep(deps)

    assert (first.listed, first.repaired, dict(first.notes)) == (3, 2, {"payment.succeeded": 2})
    assert (second.listed, second.repaired) == (3, 0)
    state = store(deps).state
    assert sorted(e.type for e in state.outbox) == ["payment.succeeded"] * 3  # one per session
    assert state.checkpoint == NOW
    types, since = fake_stripe(deps).listed[1]
    assert types == HANDLED_TYPES
    assert since == int((NOW - SWEEP_OVERLAP).timestamp())
    assert (
        deps.metrics.reconcile_repaired.labels("checkout.session.completed", "payment.succeeded")._value.get()
        == 2
    )


async def test_a_late_webhook_after_the_sweep_is_a_duplicate(client, deps) -> None:  # type: ignore[no-untyped-def]
    session = (await checkout(client, deps, an_order())).json()["session_id"]
    event = completed(session)
    fake_stripe(deps).events = [stripe_event(event, deps.clock())]

    await tasks.sweep(deps)
    late = await post_event(client, event)

    assert late.json()["note"] == "duplicate"
    assert len(store(deps).state.outbox) == 1


async def test_stripe_away_fails_the_sweep_and_keeps_the_checkpoint() -> None:
    deps = make_deps()
    fake_stripe(deps).fail_with.append(StripeUnavailable("APIConnectionError: timeout"))

    with pytest.raises(StripeUnavailable):
        await tasks.sweep(deps)
    assert await reconcile_now(deps, since=None) == 0  # the next one goes through
    assert store(deps).state.checkpoint is not None


async def test_the_command_prints_what_it_did_and_exits_1_when_stripe_is_away(capsys) -> None:  # type: ignore[no-untyped-def]
    deps = make_deps()
    assert await reconcile_now(deps, since=600) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["listed"], summary["repaired"], summary["checkpoint_moved"]) == (0, 0, False)
    fake_stripe(deps).fail_with.append(StripeUnavailable("APIConnectionError: timeout"))
    assert await reconcile_now(deps, since=600) == 1


def test_the_reconcile_command_refuses_a_bad_since(capsys) -> None:  # type: ignore[no-untyped-def]
    from payments.__main__ import main

    for bad in ("0", "-5", "soon"):
        with pytest.raises(SystemExit) as exit_:
            main(["reconcile", "--since", bad])
        assert exit_.value.code == 2
    assert "--since" in capsys.readouterr().err


def test_the_sweep_is_scheduled_every_stripe_reconcile_interval() -> None:
    deps = make_deps()
    settings = deps.settings.model_copy(update={"stripe_reconcile_interval": 42.0})
    [sweep, prune] = tasks.schedules(settings)
    assert (sweep.task.routing_key, sweep.every) == ("payments.stripe_reconcile", 42.0)
    assert prune.task.routing_key == "payments.prune"
    assert deps.settings.stripe_reconcile_interval == 300.0  # the default; the copy above is untouched
