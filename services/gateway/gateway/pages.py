"""gateway page rendering: the Jinja2 environment (autoescaped), time formatting (money: messaging.money)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from messaging.money import format_money
from runtime import requests

# Inline styles only, nothing from elsewhere; no scripts at all (the pages work without them).
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


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
    env.filters["money"] = format_money
    env.filters["when"] = when
    return env


def render(template: str, status: int = 200, **values: object) -> HTMLResponse:
    html = environment().get_template(template).render(request_id=requests.request_id.get(), **values)
    return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)
