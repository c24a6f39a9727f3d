"""Issue 13, finding 7: every payments answer is documented in its OpenAPI (schemathesis, in process)."""

from __future__ import annotations

from payments.main import create_app
from tests.support.openapi import SETTINGS, check, schema_of
from tests.support.payments import SERVICE_TOKEN, make_deps

_deps = make_deps()
schema = schema_of(create_app(_deps.settings, _deps))


@schema.parametrize()
@SETTINGS
def test_every_payments_answer_is_documented(case) -> None:  # type: ignore[no-untyped-def]
    check(case, {"Authorization": f"Bearer {SERVICE_TOKEN}"})
