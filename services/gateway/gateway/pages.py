"""gateway page rendering: the Jinja2 environment (autoescaped), money and time formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway import context

# Stripe's zero- and three-decimal currencies; every other one has two.
_ZERO_DECIMAL = frozenset(
    (
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    )
)
_THREE_DECIMAL = frozenset(("bhd", "jod", "kwd", "omr", "tnd"))
_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥"}
# Inline styles only, nothing from elsewhere; no scripts at all (the pages work without them).
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def money(amount: int, currency: str) -> str:
    """Minor units to a price: money(1500, "eur") == "€15.00", money(1500, "chf") == "15.00 CHF"."""
    code = currency.lower()
    digits = 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2
    sign = "-" if amount < 0 else ""
    value = f"{abs(amount) / 10**digits:,.{digits}f}"
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{value}" if symbol else f"{sign}{value} {code.upper()}"


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment  # naive times from the services are UTC
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gateway", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["when"] = when
    return env


def render(template: str, status: int = 200, **values: object) -> HTMLResponse:
    html = environment().get_template(template).render(request_id=context.request_id.get(), **values)
    return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)
