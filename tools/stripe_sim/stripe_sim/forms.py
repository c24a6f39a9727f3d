"""stripe_sim form decoding: Stripe's nested form keys (`a[b][0][c]`, `expand[]`) and typed getters."""

import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from stripe_sim.errors import StripeError, invalid, parameter_missing, parameter_unknown

Obj = dict[str, Any]

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def decode(pairs: Iterable[tuple[str, str]]) -> Obj:
    """Turn form pairs into nested dicts and lists, as Stripe reads them."""
    root: Obj = {}
    for key, value in pairs:
        _assign(root, _split(key), value, key)
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _split(key: str) -> list[str]:
    base, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    tail = "[" + rest
    parts = _BRACKETS.findall(tail)
    if "".join(f"[{p}]" for p in parts) != tail:
        return [key]
    return [base, *parts]


def _assign(node: Obj, parts: list[str], value: str, key: str) -> None:
    for depth, part in enumerate(parts):
        name = str(len(node)) if part == "" else part
        if depth == len(parts) - 1:
            if isinstance(node.get(name), dict):
                raise invalid(key, f"Invalid value for {key}: it is also used as a hash.")
            node[name] = value
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise invalid(key, f"Invalid hash for {key}: it is also used as a value.")
        node = child


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def path(*parts: str | int) -> str:
    """`path("line_items", 0, "quantity")` -> `line_items[0][quantity]`."""
    head, *rest = (str(p) for p in parts)
    return head + "".join(f"[{p}]" for p in rest)


def check_known(data: Obj, allowed: Iterable[str], prefix: str = "") -> None:
    """Reject keys Stripe would not accept here, like Stripe's parameter_unknown."""
    known = set(allowed)
    for key in data:
        if key not in known:
            raise parameter_unknown(f"{prefix}[{key}]" if prefix else key)


def _given(data: Obj, key: str, name: str, required: bool) -> Any:
    """The value under `key`, or None when it is absent or empty (parameter_missing if required)."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise parameter_missing(name)
        return None
    return value


def get_str(data: Obj, key: str, name: str | None = None, *, required: bool = False) -> str | None:
    name = name or key
    value = _given(data, key, name, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(name, f"Invalid string: {value!r}", "parameter_invalid_string")
    return value


def get_int(data: Obj, key: str, name: str | None = None, *, required: bool = False) -> int | None:
    name = name or key
    text = get_str(data, key, name, required=required)
    if text is None:
        return None
    if not re.fullmatch(r"-?\d+", text.strip()):
        raise invalid(name, f"Invalid integer: {text}", "parameter_invalid_integer")
    return int(text)


def get_bool(data: Obj, key: str, name: str | None = None) -> bool | None:
    """Stripe's form booleans: `true` or `false`."""
    name = name or key
    text = get_str(data, key, name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise invalid(name, f"Invalid boolean: {text}", "parameter_invalid_boolean")
    return text == "true"


def get_dict(data: Obj, key: str, name: str | None = None, *, required: bool = False) -> Obj | None:
    name = name or key
    value = _given(data, key, name, required)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(name, f"Invalid object: {name} must be a hash")
    return value


def get_list(data: Obj, key: str, name: str | None = None, *, required: bool = False) -> list[Any]:
    name = name or key
    value = _given(data, key, name, required)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(name, f"Invalid array: {name} must be an array")
    return value


def get_str_list(data: Obj, key: str) -> list[str]:
    values = get_list(data, key)
    if not all(isinstance(v, str) for v in values):
        raise invalid(key, f"Invalid array of strings: {key}")
    return [str(v) for v in values]


_RANGE: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def get_range(data: Obj, key: str) -> Callable[[int], bool]:
    """Stripe's range filters (`created=T`, or `created[gte]=T&created[lt]=U`): a predicate on a value."""
    value = data.get(key)
    if value is None or value == "":
        return lambda _: True
    if not isinstance(value, dict):
        exact = get_int(data, key)
        return lambda v: v == exact
    unknown = set(value) - set(_RANGE)
    if unknown:
        raise parameter_unknown(path(key, sorted(unknown)[0]))
    bounds = [(_RANGE[op], get_int(value, op, path(key, op), required=True)) for op in value]
    return lambda v: all(compare(v, bound) for compare, bound in bounds if bound is not None)


def get_metadata(data: Obj, key: str = "metadata") -> dict[str, str]:
    """Stripe's metadata rules: at most 50 keys, key <= 40 chars, value <= 500 chars, all strings."""
    raw = get_dict(data, key) or {}
    if len(raw) > 50:
        raise invalid(key, "Metadata can have at most 50 keys.")
    result: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(v, str):
            raise invalid(path(key, k), f"Invalid string: {v!r}", "parameter_invalid_string")
        if len(k) > 40 or len(v) > 500:
            raise invalid(path(key, k), "Metadata keys are at most 40 and values at most 500 characters.")
        if v != "":
            result[k] = v
    return result


def get_expand(data: Obj) -> set[str]:
    return set(get_str_list(data, "expand"))


def limit_of(data: Obj) -> int:
    limit = get_int(data, "limit")
    if limit is None:
        return 10
    if not 1 <= limit <= 100:
        raise StripeError(
            400, "This value must be between 1 and 100.", code="parameter_invalid_integer", param="limit"
        )
    return limit
