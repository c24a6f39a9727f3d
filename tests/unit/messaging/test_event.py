"""Envelope and registry: JSON only, unknown fields tolerated, invalid bodies rejected."""

from __future__ import annotations

import json
from typing import ClassVar
from uuid import uuid4

import pytest

from messaging.event import Envelope, Event, InvalidMessage, event_type, parse, registry
from messaging.events.payments import PaymentSucceeded


class WidgetMade(Event):
    routing_key: ClassVar[str] = "widget.made"
    size: int


def test_envelope_carries_identity_tracing_and_the_event() -> None:
    env = Envelope.wrap(WidgetMade(size=3))
    body = json.loads(env.model_dump_json())
    assert set(body) == {"id", "type", "version", "occurred_at", "correlation_id", "causation_id", "data"}
    assert body["type"] == "widget.made"
    assert body["version"] == 1
    assert body["correlation_id"] == body["id"]  # a new flow starts with its own id
    assert body["occurred_at"].endswith("Z") or "+00:00" in body["occurred_at"]


def test_follow_up_keeps_the_correlation_and_names_its_cause() -> None:
    first = Envelope.wrap(WidgetMade(size=1), correlation_id="order-9")
    second = first.follow_up(WidgetMade(size=2))
    assert second.correlation_id == "order-9"
    assert second.causation_id == str(first.id)
    assert second.id != first.id


def test_parse_round_trips_and_tolerates_unknown_fields() -> None:
    env = Envelope.wrap(WidgetMade(size=5))
    body = json.loads(env.model_dump_json())
    body["extra"] = "from a newer producer"
    body["data"]["colour"] = "red"
    parsed = parse(json.dumps(body), WidgetMade)
    assert parsed.data == WidgetMade(size=5)
    assert parsed.id == env.id


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"type": "widget.made"}', b"", b'{"id": "nope"}'],
)
def test_invalid_bodies_are_rejected_with_a_reason(body: bytes) -> None:
    with pytest.raises(InvalidMessage):
        parse(body, WidgetMade)


def test_wrong_data_type_is_rejected() -> None:
    body = json.loads(Envelope.wrap(WidgetMade(size=5)).model_dump_json())
    body["data"]["size"] = "big"
    with pytest.raises(InvalidMessage, match=r"data\.size"):
        parse(json.dumps(body), WidgetMade)


def test_a_body_claiming_another_type_is_rejected() -> None:
    body = json.loads(Envelope.wrap(WidgetMade(size=5)).model_dump_json())
    body["type"] = "widget.broken"
    with pytest.raises(InvalidMessage, match="is not"):
        parse(json.dumps(body), WidgetMade)


def test_registry_maps_routing_keys_to_models() -> None:
    assert event_type("widget.made") is WidgetMade
    assert registry()["payment.succeeded"] is PaymentSucceeded
    assert event_type("nothing.here") is None


def test_a_routing_key_cannot_be_taken_twice() -> None:
    with pytest.raises(TypeError, match="already taken"):

        class Impostor(Event):
            routing_key: ClassVar[str] = "widget.made"


def test_payment_event_data_carries_the_contract_fields() -> None:
    event = PaymentSucceeded(
        order_id=uuid4(), stripe_event_id="evt_1", checkout_session_id="cs_1", amount=1299, currency="eur"
    )
    data = json.loads(Envelope.wrap(event).model_dump_json())["data"]
    assert {"order_id", "stripe_event_id", "checkout_session_id", "amount", "currency"} <= set(data)
