"""Schemathesis against a service's own OpenAPI, in process (ASGI, fakes), bounded examples (issue 13).

Every answer must be documented: its status code, its content type and its body schema, and no input
may make a route answer 5xx on its own account. `positive_data_acceptance` is left out: schema-valid
input is refused for reasons a schema cannot express (an unknown product, a forged Stripe signature).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

MAX_EXAMPLES = 20
# derandomize: the same examples every run, so `make test` is reproducible; bounded by MAX_EXAMPLES.
SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


def schema_of(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def check(case: Any, headers: dict[str, str] | None = None) -> None:
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
