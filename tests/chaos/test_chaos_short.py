"""The short chaos run inside `make test`: the two cheapest faults, a few payments, the whole system."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.servers import postgres_available, rabbit_available

pytestmark = pytest.mark.chaos
ROOT = Path(__file__).resolve().parents[2]
SHORT = ("amqp-connections-closed", "worker-killed")


@pytest.mark.timeout(600)
def test_short_chaos_run_loses_and_doubles_no_payment() -> None:
    if reason := rabbit_available() or postgres_available():
        pytest.skip(f"cannot run servers of our own: {reason}")
    argv = [sys.executable, "-m", "chaos", "--scenarios", ",".join(SHORT), "--payments", "20", "--rate", "4"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=540, check=False)
    report = done.stdout + done.stderr[-6000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [line["chaos"] for line in lines] == list(SHORT), report
    for line in lines:
        assert line["payments"] > 0, report
        assert (line["lost"], line["duplicate_effects"]) == (0, 0), report
    assert done.returncode == 0, report
