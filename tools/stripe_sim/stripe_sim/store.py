"""stripe_sim store: the in-memory objects, the event log and Stripe-style list pagination."""

import copy
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from stripe_sim import shapes, tax
from stripe_sim.errors import resource_missing
from stripe_sim.forms import get_str, limit_of

Obj = dict[str, Any]


class EventSink(Protocol):
    """Receives every new event (the webhook dispatcher)."""

    def wants(self, event_type: str) -> bool: ...

    def submit(self, event: Obj) -> None: ...


@dataclass(frozen=True)
class Origin:
    """The API request that caused an event (Event.request); empty for automatic ones."""

    request_id: str | None = None
    idempotency_key: str | None = None

    def as_obj(self) -> Obj:
        return {"id": self.request_id, "idempotency_key": self.idempotency_key}


AUTOMATIC = Origin()


@dataclass
class SessionRecord:
    obj: Obj
    line_items: list[Obj]
    pi_metadata: dict[str, str] = field(default_factory=dict)
    taxes: list[Obj] = field(default_factory=list)  # per line and rate: tax.line_taxes


class Store:
    """All objects by id; callers hold `lock` around a read-modify-emit sequence."""

    def __init__(self, sink: EventSink | None = None) -> None:
        self.lock = threading.RLock()
        self.sink = sink
        self.sessions: dict[str, SessionRecord] = {}
        self.payment_intents: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.refunds: dict[str, Obj] = {}
        self.events: dict[str, Obj] = {}
        self.tax_rates: dict[str, Obj] = {}

    def emit(self, event_type: str, obj: Obj, origin: Origin, previous: Obj | None = None) -> Obj:
        """Record an event holding a snapshot of `obj` and hand it to the sink."""
        with self.lock:
            wanted = self.sink is not None and self.sink.wants(event_type)
            event = shapes.event(event_type, copy.deepcopy(obj), origin.as_obj(), previous, int(wanted))
            self.events[event["id"]] = event
            if wanted and self.sink is not None:
                self.sink.submit(copy.deepcopy(event))
            return event

    def delivered(self, event_id: str) -> None:
        """A webhook endpoint took the event: Stripe counts it out of `pending_webhooks`."""
        with self.lock:
            event = self.events.get(event_id)
            if event is not None:
                event["pending_webhooks"] = 0

    def session(self, session_id: str, param: str = "session") -> SessionRecord:
        with self.lock:
            record = self.sessions.get(session_id)
        if record is None:
            raise resource_missing("checkout.session", session_id, param=param)
        return record

    def get(
        self, table: dict[str, Obj], kind: str, ident: str, *, param: str = "id", status: int = 404
    ) -> Obj:
        with self.lock:
            obj = copy.deepcopy(table.get(ident))
        if obj is None:
            raise resource_missing(kind, ident, param=param, status=status)
        return obj

    def render_session(self, record: SessionRecord, expand: Iterable[str]) -> Obj:
        """A copy of the session with `line_items`, `payment_intent` (and its `latest_charge`) and
        `total_details.breakdown` expanded when asked."""
        with self.lock:
            obj = copy.deepcopy(record.obj)
            wanted = set(expand)
            if "line_items" in wanted:
                url = f"/v1/checkout/sessions/{obj['id']}/line_items"
                obj["line_items"] = shapes.list_object(copy.deepcopy(record.line_items), url)
            if wanted & {"payment_intent", "payment_intent.latest_charge"} and obj["payment_intent"]:
                pi = obj["payment_intent"] = copy.deepcopy(self.payment_intents[obj["payment_intent"]])
                if "payment_intent.latest_charge" in wanted and pi["latest_charge"]:
                    pi["latest_charge"] = copy.deepcopy(self.charges[pi["latest_charge"]])
            if "total_details.breakdown" in wanted:
                obj["total_details"]["breakdown"] = tax.breakdown(self.tax_rates, record.taxes)
            return obj


def paginate(
    items: list[Obj], params: Obj, url: str, kind: str, keep: Callable[[Obj], bool] | None = None
) -> Obj:
    """Stripe's cursor pagination over `items` already in list order (newest first), filtered by `keep`.

    A cursor is found among all `items`, as Stripe finds any object of the kind: one that the filters
    leave out still marks a place in the list.
    """
    limit = limit_of(params)
    after = get_str(params, "starting_after")
    before = get_str(params, "ending_before")
    ids = [item["id"] for item in items]
    if after is not None:
        start = _index(ids, after, kind, "starting_after") + 1
        items, before_cursor = items[start:], False
    elif before is not None:
        items, before_cursor = items[: _index(ids, before, kind, "ending_before")], True
    else:
        before_cursor = False
    kept = [item for item in items if keep is None or keep(item)]
    page = kept[max(0, len(kept) - limit) :] if before_cursor else kept[:limit]
    return shapes.list_object(copy.deepcopy(page), url, len(kept) > limit)


def _index(ids: list[str], ident: str, kind: str, param: str) -> int:
    try:
        return ids.index(ident)
    except ValueError:
        raise resource_missing(kind, ident, param=param, status=400) from None
