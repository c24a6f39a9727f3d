"""tools/run.py (make run): a SERVICE_TOKEN for every child, and the workers' /readyz in the plan."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]


def _run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paybus_run_plan", ROOT / "tools" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_make_run_generates_a_service_token_when_unset_and_keeps_a_given_one() -> None:
    run = _run()
    first, second = run.settings({})["SERVICE_TOKEN"], run.settings({})["SERVICE_TOKEN"]
    assert len(first) >= 32
    assert first != second
    assert run.settings({"SERVICE_TOKEN": "mine"})["SERVICE_TOKEN"] == "mine"


def test_make_run_waits_for_every_worker_on_its_health_port() -> None:
    run = _run()
    env = run.settings({"ORDERS_WORKER_PORT": "9011"})
    ready = {p.name: p.ready_url for p in run.plan(env)}
    assert ready["orders-worker"] == "http://127.0.0.1:9011/readyz"
    assert ready["payments-worker"] == "http://127.0.0.1:8012/readyz"
    assert ready["notifier-worker"] == "http://127.0.0.1:8013/readyz"
    assert all(url for url in ready.values())
