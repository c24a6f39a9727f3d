"""AsyncAPI 3.0 document of the public exchanges and their events, from the topology and the models.

`document()` builds it; `breaking(old, new)` lists what a new document breaks for consumers of the old
one (a routing key gone, a field removed, retyped, or newly required). The checked-in copy
(docs/asyncapi.json) is the published contract: `python -m messaging asyncapi --check FILE` fails on a
stale copy, and `-o FILE` refuses to write a breaking one; a breaking change goes under a new `.v2`
routing key beside the old one (STYLE.md), which adds a message and breaks nothing.
"""

from __future__ import annotations

from typing import Any

from messaging.event import Event, envelope_model
from messaging.topology import TOPOLOGY, Exchange, Topology

__all__ = ["breaking", "document"]

PUBLIC = ("payments.events", "payments.broadcast", "orders.events")  # ARCHITECTURE.md
REF = "#/components/schemas/{model}"
_BINDING_VERSION = "0.3.0"


def _channel_id(exchange: Exchange) -> str:
    return exchange.name.replace(".", "_")


def _message_id(event: type[Event]) -> str:
    return event.routing_key.replace(".", "_")


def document(topology: Topology = TOPOLOGY, version: str = "1.0.0") -> dict[str, Any]:
    """The AsyncAPI 3.0 document: a channel per public exchange, a send operation per event."""
    exchanges = [x for x in topology.exchanges if x.name in PUBLIC]
    public = {x.name for x in exchanges}  # tasks on paybus.tasks are internal: not in the catalogue
    events = sorted(
        (e for e, routed in topology.routes.items() if any(x.name in public for x in routed)),
        key=lambda e: e.routing_key,
    )
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event in events:
        schema = envelope_model(event).model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        name = f"{event.__name__}Envelope"
        schemas[name] = schema
        messages[_message_id(event)] = _message(event, name)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for exchange in exchanges:
        carried = [e for e in events if exchange in topology.routes[e]]
        cid = _channel_id(exchange)
        channels[cid] = {
            "address": exchange.name,
            "description": f"{exchange.type.value} exchange; routing key = the message's `type`",
            "messages": {
                _message_id(e): {"$ref": f"#/components/messages/{_message_id(e)}"} for e in carried
            },
            "bindings": {"amqp": _exchange_binding(exchange)},
        }
        for event in carried:
            operations[f"{cid}__{_message_id(event)}"] = {
                "action": "send",
                "summary": f"{event.routing_key} published to {exchange.name}",
                "channel": {"$ref": f"#/channels/{cid}"},
                "messages": [{"$ref": f"#/channels/{cid}/messages/{_message_id(event)}"}],
                "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": _BINDING_VERSION}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "paybus public events",
            "version": version,
            "description": "Payment and order events other teams bind their own queues to.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def _message(event: type[Event], schema: str) -> dict[str, Any]:
    return {
        "name": event.routing_key,
        "title": event.__name__,
        "summary": (event.__doc__ or event.__name__).strip().splitlines()[0],
        "contentType": "application/json",
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "headers": {
            "type": "object",
            "properties": {"traceparent": {"type": "string", "description": "W3C trace context"}},
        },
        "payload": {"$ref": REF.format(model=schema)},
        "bindings": {"amqp": {"messageType": event.routing_key, "bindingVersion": _BINDING_VERSION}},
        "x-version": event.version,
    }


def _exchange_binding(exchange: Exchange) -> dict[str, Any]:
    return {
        "is": "routingKey",
        "exchange": {
            "name": exchange.name,
            "type": exchange.type.value,
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        },
        "bindingVersion": _BINDING_VERSION,
    }


def breaking(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What `new` breaks for a consumer written against `old` (empty: compatible)."""
    problems: list[str] = []
    old_messages, new_messages = old["components"]["messages"], new["components"]["messages"]
    for key, message in old_messages.items():
        if key not in new_messages:
            problems.append(f"message {message['name']} is gone")
            continue
        old_payload = _resolve(old, message["payload"])
        new_payload = _resolve(new, new_messages[key]["payload"])
        problems += _schema_breaks(old, old_payload, new, new_payload, message["name"])
    for cid, channel in old["channels"].items():
        for key in channel["messages"]:
            if key not in new["channels"].get(cid, {}).get("messages", {}):
                problems.append(f"{channel['address']} no longer carries {key}")
    return problems


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_breaks(
    old_doc: dict[str, Any], old: dict[str, Any], new_doc: dict[str, Any], new: dict[str, Any], where: str
) -> list[str]:
    old, new = _resolve(old_doc, old), _resolve(new_doc, new)
    if _kind(old) != _kind(new):
        return [f"{where}: type {_kind(old)} became {_kind(new)}"]
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, prop in old_props.items():
        if name not in new_props:
            problems.append(f"{where}.{name} was removed")
        else:
            problems += _schema_breaks(old_doc, prop, new_doc, new_props[name], f"{where}.{name}")
    for name in set(new.get("required", ())) - set(old.get("required", ())):
        problems.append(f"{where}.{name} is newly required")
    if "items" in old and "items" in new:
        problems += _schema_breaks(old_doc, old["items"], new_doc, new["items"], f"{where}[]")
    return problems


def _kind(schema: dict[str, Any]) -> str:
    """A schema's JSON type(s), nullable variants included, as one comparable string."""
    if "anyOf" in schema:
        return "|".join(sorted(_kind(s) for s in schema["anyOf"]))
    if "$ref" in schema:
        return "object"
    kind = schema.get("type", "any")
    return (
        "|".join(sorted(kind))
        if isinstance(kind, list)
        else f"{kind}{':' + schema['format'] if 'format' in schema else ''}"
    )
