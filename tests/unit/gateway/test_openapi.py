"""Issue 13, finding 7: every gateway answer is documented in its OpenAPI (schemathesis, in process)."""

from __future__ import annotations

from gateway.deps import Deps
from gateway.main import create_app
from tests.support.gateway import InMemoryUpstreams, gateway_settings
from tests.support.openapi import SETTINGS, check, schema_of

_upstreams = InMemoryUpstreams()
schema = schema_of(create_app(gateway_settings(order_rate_limit=10**6), deps=Deps(upstreams=_upstreams)))


@schema.parametrize()
@SETTINGS
def test_every_gateway_answer_is_documented(case) -> None:  # type: ignore[no-untyped-def]
    check(case)
