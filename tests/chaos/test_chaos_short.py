"""The short chaos run inside `make test`: the two cheapest faults, a few payments, the whole system.

One run (a module fixture), two verdicts: payments are never lost nor `order.paid` doubled (strict),
and each receipt is sent once. The second can still fail when `worker-killed` SIGKILLs a notifier in
the one-statement window between the SMTP server accepting a receipt and 'sent' committing (README:
"Known limits"): that one is XFAIL here, not strict, and `make chaos` counts it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaos.servers import postgres_available, rabbit_available

pytestmark = pytest.mark.chaos
ROOT = Path(__file__).resolve().parents[2]
SHORT = ("amqp-connections-closed", "worker-killed")


@dataclass
class Run:
    lines: list[dict[str, Any]]
    report: str


@pytest.fixture(scope="module")
def short_run() -> Run:
    if reason := rabbit_available() or postgres_available():
        pytest.skip(f"cannot run servers of our own: {reason}")
    argv = [sys.executable, "-m", "chaos", "--scenarios", ",".join(SHORT), "--payments", "20", "--rate", "4"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(lines, done.stdout + done.stderr[-6000:])


@pytest.mark.timeout(600)
def test_short_chaos_run_loses_no_payment_and_publishes_order_paid_once(short_run: Run) -> None:
    assert [line["chaos"] for line in short_run.lines] == list(SHORT), short_run.report
    for line in short_run.lines:
        assert line["payments"] > 0, short_run.report
        assert line["lost"] == 0, short_run.report
        assert line["duplicate_order_paid"] == 0, short_run.report
        assert line["recovered_s"] is not None, short_run.report
        assert line["recovered_s"] <= 60, short_run.report


@pytest.mark.xfail(
    strict=False,
    reason="a notifier SIGKILLed between SMTP's acceptance and its commit sends again (README: Known limits)",
)
def test_short_chaos_run_sends_each_receipt_once(short_run: Run) -> None:
    assert short_run.lines, short_run.report
    for line in short_run.lines:
        assert line["duplicate_receipts"] == 0, short_run.report
