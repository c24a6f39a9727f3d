"""The AsyncAPI document: the public exchanges and events, checked in, and changes that break consumers."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from messaging import asyncapi
from messaging.topology import TASKS, TOPOLOGY

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def test_the_three_public_exchanges_and_every_routed_event_are_documented() -> None:
    doc = asyncapi.document()
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"]: c for c in doc["channels"].values()}
    assert set(addresses) == {"payments.events", "payments.broadcast", "orders.events"}
    assert addresses["payments.broadcast"]["bindings"]["amqp"]["exchange"]["type"] == "fanout"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    public = {event.routing_key for event, routed in TOPOLOGY.routes.items() if TASKS not in routed}
    assert names == public  # periodic tasks on paybus.tasks are internal, not in the catalogue
    succeeded = doc["components"]["schemas"]["PaymentSucceededEnvelope"]
    assert {"id", "type", "version", "occurred_at", "correlation_id", "data"} <= set(succeeded["properties"])
    data = doc["components"]["schemas"]["PaymentSucceeded"]["properties"]
    assert {"order_id", "stripe_event_id", "checkout_session_id", "amount", "currency"} <= set(data)
    for operation in doc["operations"].values():  # every reference resolves
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        assert operation["messages"][0]["$ref"].rsplit("/", 1)[-1] in doc["channels"][channel]["messages"]


def test_the_checked_in_document_is_what_the_code_says() -> None:
    """Regenerate with `python -m messaging asyncapi -o docs/asyncapi.json` (make lint checks it too)."""
    assert json.loads(CHECKED_IN.read_text()) == asyncapi.document()


def _changed(edit) -> list[str]:  # type: ignore[no-untyped-def]
    old = asyncapi.document()
    new = copy.deepcopy(old)
    edit(new["components"])
    return asyncapi.breaking(old, new)


def test_adding_an_optional_field_or_a_new_event_breaks_nothing() -> None:
    def add(components) -> None:  # type: ignore[no-untyped-def]
        components["schemas"]["PaymentSucceeded"]["properties"]["note"] = {"type": "string"}
        components["messages"]["payment_succeeded_v2"] = components["messages"]["payment_succeeded"]

    assert _changed(add) == []


def test_a_removed_retyped_or_newly_required_field_or_a_removed_event_is_breaking() -> None:
    def remove(components) -> None:  # type: ignore[no-untyped-def]
        del components["schemas"]["PaymentSucceeded"]["properties"]["amount"]

    def retype(components) -> None:  # type: ignore[no-untyped-def]
        components["schemas"]["OrderPaid"]["properties"]["total"] = {"type": "string"}

    def require(components) -> None:  # type: ignore[no-untyped-def]
        components["schemas"]["OrderPaid"]["required"].append("paid_at")

    def drop(components) -> None:  # type: ignore[no-untyped-def]
        del components["messages"]["order_refunded"]

    assert _changed(remove) == ["payment.succeeded.data.amount was removed"]
    assert _changed(retype) == ["order.paid.data.total: type integer became string"]
    assert _changed(require) == ["order.paid.data.paid_at is newly required"]
    assert _changed(drop) == ["message order.refunded is gone"]
