"""Event base, the wire envelope, and the registry from routing key to event model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Envelope", "Event", "InvalidMessage", "envelope_model", "event_type", "parse", "registry"]

_REGISTRY: dict[str, type[Event]] = {}


class InvalidMessage(ValueError):
    """A body that is not a valid envelope for the type it claims: poison, never retried."""


class Event(BaseModel):
    """The `data` of an envelope. Subclasses name their public routing key."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    routing_key: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = cls.__dict__.get("routing_key")
        if key is None:
            return
        known = _REGISTRY.get(key)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"routing key {key!r} is already taken by {known.__qualname__}")
        _REGISTRY[key] = cls


E = TypeVar("E", bound=Event)
F = TypeVar("F", bound=Event)


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[E]):
    """What travels as the JSON body: identity, tracing and the event itself."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int
    occurred_at: datetime = Field(default_factory=_now)
    correlation_id: str
    causation_id: str | None = None
    data: E

    @classmethod
    def wrap(
        cls, event: F, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> Envelope[F]:
        """Wrap an event; a new correlation id starts a new flow."""
        message_id = uuid.uuid4()
        return envelope_model(type(event))(
            id=message_id,
            type=event.routing_key,
            version=event.version,
            correlation_id=correlation_id or str(message_id),
            causation_id=causation_id,
            data=event,
        )

    def follow_up(self, event: F) -> Envelope[F]:
        """An event caused by this one: same correlation id, causation = this message."""
        return Envelope.wrap(event, correlation_id=self.correlation_id, causation_id=str(self.id))


def registry() -> dict[str, type[Event]]:
    """Every known event model by its routing key (a copy)."""
    return dict(_REGISTRY)


def event_type(routing_key: str) -> type[Event] | None:
    return _REGISTRY.get(routing_key)


_ENVELOPE_MODELS: dict[type[Event], type[Envelope[Any]]] = {}


def envelope_model(model: type[E]) -> type[Envelope[E]]:
    """`Envelope[model]`, built once per model (pydantic's own cache is slower to reach)."""
    found = _ENVELOPE_MODELS.get(model)
    if found is None:
        found = _ENVELOPE_MODELS[model] = Envelope[model]  # type: ignore[valid-type]
    return found


def parse(body: bytes | str, model: type[E]) -> Envelope[E]:
    """Validate a JSON body as an envelope of `model`; raise InvalidMessage if it is not one."""
    try:
        envelope = envelope_model(model).model_validate_json(body)
    except ValidationError as exc:
        raise InvalidMessage(_summary(exc)) from None
    if envelope.type != model.routing_key:
        raise InvalidMessage(f"envelope type {envelope.type!r} is not {model.routing_key!r}")
    return envelope


def _summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]]
    return "; ".join(parts)
