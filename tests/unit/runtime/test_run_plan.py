"""tools/run.py (make run): a SERVICE_TOKEN for every child, and the workers' /readyz in the plan."""

from __future__ import annotations

from chaos.system import load_run


def test_make_run_generates_a_service_token_when_unset_and_keeps_a_given_one() -> None:
    run = load_run()
    first, second = run.settings({})["SERVICE_TOKEN"], run.settings({})["SERVICE_TOKEN"]
    assert len(first) >= 32
    assert first != second
    assert run.settings({"SERVICE_TOKEN": "mine"})["SERVICE_TOKEN"] == "mine"


def test_make_run_waits_for_every_worker_on_its_health_port() -> None:
    run = load_run()
    env = run.settings({"ORDERS_WORKER_PORT": "9011"})
    ready = {p.name: p.ready_url for p in run.plan(env)}
    assert ready["orders-worker"] == "http://127.0.0.1:9011/readyz"
    assert ready["payments-worker"] == "http://127.0.0.1:8012/readyz"
    assert ready["notifier-worker"] == "http://127.0.0.1:8013/readyz"
    assert all(url for url in ready.values())
