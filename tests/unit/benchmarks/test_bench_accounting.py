"""The bench's bookkeeping: which processes count as paybus's, and what a profile summary says."""

from __future__ import annotations

from collections import Counter

from benchmarks._meter import (
    BENCH,
    ELSEWHERE,
    IDLE_RATE,
    POSTGRES,
    POSTGRES_REST,
    RABBITMQ,
    CpuMeter,
    Reading,
)
from benchmarks._profile import summary
from benchmarks.pipeline_bench import _cost_figures

PAYBUS = ("gateway-api", "orders-worker", RABBITMQ, POSTGRES)


def _round(scale: float) -> dict[str, float]:
    """One round's CPU seconds per payment by part, and counters per payment."""
    return {
        "gateway-api": 0.003 * scale,
        "orders-worker": 0.002 * scale,
        RABBITMQ: 0.001 * scale,
        POSTGRES: 0.004 * scale,
        "Stripe stand-in": 0.005,
        BENCH: 0.006,
        POSTGRES_REST: 0.007,
        ELSEWHERE: 0.050,
        IDLE_RATE: 0.0005,
        "xacts[db_orders]": 2.0,
        "xacts[db_payments]": 3.0,
        "delivered[orders.payments]": 1.0,
        "delivered[notifier.dlq]": 0.0,
    }


def test_paybus_figure_is_its_processes_and_servers_only_with_every_round() -> None:
    figures = {
        f.name: f
        for f in _cost_figures([50.0, 70.0, 60.0], [_round(1), _round(3), _round(2)], [1.0, 3.0, 2.0], PAYBUS)
    }

    paybus = figures["pipeline_cpu_ms_per_payment_paybus"]
    assert [round(v, 6) for v in paybus.runs] == [10.0, 30.0, 20.0]  # stand-in, bench, the rest: not in it
    assert round(paybus.value, 6) == 20.0
    every = figures["pipeline_cpu_ms_per_payment_all_processes"]
    assert [round(v, 6) for v in every.runs] == [21.0, 41.0, 31.0]  # plus stand-in and bench only
    assert figures["pipeline_settled_per_s"].value == 60.0
    assert figures["pipeline_settled_per_s"].runs == [50.0, 70.0, 60.0]
    assert figures["pipeline_pg_transactions_per_payment"].runs == [5.0, 5.0, 5.0]
    assert figures["pipeline_pg_transactions_per_payment[db_payments]"].value == 3.0
    assert figures["pipeline_broker_deliveries_per_payment"].value == 1.0
    assert "pipeline_broker_deliveries_per_payment[notifier.dlq]" not in figures  # never delivered
    assert figures["machine_load_average_1m"].value == 2.0


def test_a_backend_born_during_the_round_counts_from_zero_and_the_rest_of_the_machine_is_apart() -> None:
    start = Reading(0.0, {"gateway-api": 1.0, RABBITMQ: 10.0}, {100: 2.0}, {7: 5.0}, busy=100.0)
    end = Reading(1.0, {"gateway-api": 1.5, RABBITMQ: 10.25}, {100: 2.5, 101: 0.25}, {7: 5.5}, busy=102.0)

    spent = CpuMeter.spent(start, end)

    assert spent["gateway-api"] == 0.5
    assert spent[RABBITMQ] == 0.25
    assert spent[POSTGRES] == 0.75
    assert spent[POSTGRES_REST] == 0.5
    assert spent[ELSEWHERE] == 0.0  # 2.0 busy, 2.0 accounted for


def test_profile_summary_counts_self_time_by_package_and_inclusive_time() -> None:
    root = "run (/usr/lib/python3.11/asyncio/runners.py:10)"
    stacks = Counter(
        {
            (
                root,
                "handle (/work/services/orders/orders/worker.py:5)",
                "execute (/v/lib/python3.11/site-packages/asyncpg/connection.py:300)",
            ): 6,
            (
                root,
                "handle (/work/services/orders/orders/worker.py:5)",
                "info (/usr/lib/python3.11/logging/__init__.py:1400)",
            ): 3,
            (root,): 1,
        }
    )

    text = summary("orders-worker", stacks, rounds=1)

    assert text.startswith("orders-worker: 10 samples")
    packages = text.split("self time by package")[1].split("self time by function")[0]
    assert "60.0%  asyncpg" in packages
    assert "30.0%  logging" in packages
    assert "10.0%  asyncio" in packages
    inclusive = text.split("inclusive time by function")[1]
    assert "90.0%  handle (orders/worker.py)" in inclusive
    assert "60.0%  execute (asyncpg/connection.py)" in inclusive
