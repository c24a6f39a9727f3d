"""Checks a JSON object against the official `stripe` SDK's generated resource types (uv.lock's pin).

The SDK declares every field of every resource with its type, from Stripe's OpenAPI spec: a field that
is not `Optional` is always present and never null; `Literal[...] | str` lists the values of an enum in
the pinned API version (the `str` only keeps old SDKs working with new values, so a value outside the
literals is reported); nested objects are `StripeObject` subclasses, checked the same way. A key the SDK
does not declare is reported too: Stripe sends none in this API version.
"""

import ast
import functools
import importlib
import inspect
import sys
import types
import typing
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Union

from stripe import StripeObject
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES, get_object_class
from stripe._stripe_object import UntypedStripeObject

Obj = dict[str, Any]
NONE = type(None)


def resource_class(obj: Obj) -> type[StripeObject]:
    """The SDK class for `obj["object"]` (`checkout.session` -> stripe.checkout.Session)."""
    name = obj.get("object")
    assert name in OBJECT_CLASSES, f"the SDK knows no object {name!r}"
    return get_object_class("V1", name)


def problems(obj: Any, cls: type[StripeObject] | None = None, where: str = "") -> list[str]:
    """Every way `obj` departs from the SDK's declaration of `cls` (default: by its `object`)."""
    if cls is None:
        if not isinstance(obj, dict):
            return [f"{where or '<root>'}: {type(obj).__name__}, not an object"]
        if obj.get("object") == "list":  # its items are checked by their own `object`
            return _stripe_object(obj, ListObject, (Any,), where or "list")
        cls = resource_class(obj)
    return _object(obj, cls, where or (obj.get("object") if isinstance(obj, dict) else "") or "<root>")


@functools.cache
def _namespace(module_name: str) -> Obj:
    """The module's globals plus what it imports only under `if TYPE_CHECKING:` (its forward refs)."""
    module = sys.modules[module_name]
    names = dict(vars(module))
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                if isinstance(imp, ast.ImportFrom) and imp.module:
                    source = importlib.import_module(imp.module)
                    for alias in imp.names:
                        names[alias.asname or alias.name] = getattr(source, alias.name)
    return names


def fields(cls: type[StripeObject]) -> dict[str, Any]:
    """Declared data fields of `cls` (its own annotations, forward references resolved)."""
    if cls not in _FIELDS:
        raw = {
            name: tp
            for name, tp in inspect.get_annotations(cls).items()
            if not name.startswith("_") and "ClassVar" not in str(tp)  # OBJECT_NAME and the like
        }
        holder = types.SimpleNamespace(__annotations__=raw)
        _FIELDS[cls] = typing.get_type_hints(holder, globalns=_namespace(cls.__module__))
    return _FIELDS[cls]


_FIELDS: dict[type[StripeObject], dict[str, Any]] = {}


def optional(tp: Any) -> bool:
    return typing.get_origin(tp) is Union and NONE in typing.get_args(tp)


def _object(value: Any, cls: type[StripeObject], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__}, the SDK declares an object {cls.__qualname__}"]
    declared = fields(cls)
    found = [f"{where}.{k}: not declared by the SDK's {cls.__qualname__}" for k in value if k not in declared]
    for name, tp in declared.items():
        if name in value:
            found += check(value[name], tp, f"{where}.{name}")
        elif not optional(tp):
            found.append(f"{where}.{name}: missing, the SDK's {cls.__qualname__} requires it")
    return found


def check(value: Any, tp: Any, where: str) -> list[str]:
    """Problems of one JSON value against one SDK type."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or isinstance(tp, typing.TypeVar):
        return _typed_if_known(value, where)
    if origin is Union:
        return _union(value, args, where)
    if value is None:
        return [f"{where}: null, the SDK declares {tp}"]
    if origin is Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {list(args)}"]
    if tp in _SCALARS:
        return [] if _SCALARS[tp](value) else [f"{where}: {value!r} is not {tp.__name__}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, not a list"]
        return [p for i, item in enumerate(value) for p in check(item, args[0], f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not a hash"]
        return [p for k, v in value.items() for p in check(v, args[1], f"{where}.{k}")]
    cls = origin or tp
    if isinstance(cls, type) and issubclass(cls, StripeObject):
        return _stripe_object(value, cls, args, where)
    return [f"{where}: no rule for the SDK type {tp!r}"]


def _union(value: Any, members: tuple[Any, ...], where: str) -> list[str]:
    if value is None:
        return [] if NONE in members else [f"{where}: null, the SDK declares it non-null"]
    literals = {v for m in members if typing.get_origin(m) is Literal for v in typing.get_args(m)}
    if literals and str in members and isinstance(value, str):
        return [] if value in literals else [f"{where}: {value!r} is not one of {sorted(literals)}"]
    best: list[str] | None = None
    for member in (m for m in members if m is not NONE):
        found = check(value, member, where)
        if not found:
            return []
        best = found if best is None or len(found) < len(best) else best
    return best or [f"{where}: matches no member of {members}"]


def _stripe_object(value: Any, cls: type, args: tuple[Any, ...], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__}, the SDK declares an object {cls.__qualname__}"]
    if cls is UntypedStripeObject:
        typed = _typed_if_known(value, where)
        return typed or [p for k, v in value.items() for p in check(v, args[0], f"{where}.{k}")]
    if cls is ListObject:
        found = [
            f"{where}.{k}: not part of a list"
            for k in value
            if k not in ("object", "data", "has_more", "url")
        ]
        found += check(value.get("object"), Literal["list"], f"{where}.object")
        found += check(value.get("has_more"), bool, f"{where}.has_more")
        found += check(value.get("url"), str, f"{where}.url")
        return found + check(value.get("data"), list[args[0]], f"{where}.data")  # type: ignore[valid-type]
    return _object(value, cls, where)


def _typed_if_known(value: Any, where: str) -> list[str]:
    """An untyped hash holding a Stripe object (an event's `data.object`): check it as that object."""
    if isinstance(value, dict) and value.get("object") in OBJECT_CLASSES and value.get("object") != "list":
        return problems(value, where=f"{where}<{value['object']}>")
    return []


def _decimal(value: Any) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except InvalidOperation:
        return False


_SCALARS: dict[Any, Any] = {
    str: lambda v: isinstance(v, str),
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    Decimal: _decimal,
}
