"""Issue 13, finding 7: every orders answer is documented in its OpenAPI (schemathesis, in process)."""

from __future__ import annotations

from orders.main import create_app
from orders.settings import Settings
from tests.support.openapi import SETTINGS, check, schema_of
from tests.support.orders import Store, make_deps

TOKEN = "orders-openapi-token"
schema = schema_of(create_app(Settings(service_token=TOKEN), deps=make_deps(Store())))


@schema.parametrize()
@SETTINGS
def test_every_orders_answer_is_documented(case) -> None:  # type: ignore[no-untyped-def]
    check(case, {"Authorization": f"Bearer {TOKEN}"})
