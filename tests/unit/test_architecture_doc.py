"""docs/architecture.md keeps in step with the steering team's ARCHITECTURE.md beside the checkout."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ROOT / "docs" / "architecture.md"
STEERING = ROOT.parent / "shared" / "ARCHITECTURE.md"  # beside the clone in CI and in development


def _named(text: str) -> set[str]:
    """Routes, exchanges, routing keys and variables: what other programs rely on."""
    names = set(re.findall(r"`((?:GET|POST) /[^`]*)`", text))
    names |= set(re.findall(r"`((?:payments|orders|paybus)\.[a-z.]+)`", text))
    names |= set(re.findall(r"`((?:payment|order)\.[a-z_]+)`", text))
    names |= set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", text))
    return names


def test_the_projects_architecture_document_names_what_the_steering_contract_names() -> None:
    ours = _named(OURS.read_text())
    assert {"POST /payment/webhook/", "payments.events", "payment.succeeded", "AMQP_URL"} <= ours
    if STEERING.exists():  # a user's clone has only ours; every check above still runs there
        assert _named(STEERING.read_text()) <= ours


def test_the_readme_and_every_service_readme_link_the_architecture_document() -> None:
    for readme in (ROOT / "README.md", *ROOT.glob("services/*/README.md")):
        assert "docs/architecture.md" in readme.read_text(), readme
