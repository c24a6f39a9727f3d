"""The order's shared value types: one status with one rank, one payability rule, for every service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from messaging.events.orders import OrderStatus, newer, payable

P, F, C, D, R = OrderStatus  # in declaration order: pending, payment_failed, canceled, paid, refunded
NOW = datetime(2026, 1, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "heard", "result"),
    [
        (P, D, D),
        (D, P, D),
        (D, R, R),
        (R, D, R),
        (C, D, D),  # a late payment pays a canceled order: money that moved outranks housekeeping
        (D, C, D),
        (P, C, C),
        (P, F, F),
        (F, P, F),
        (F, C, C),
    ],
)
def test_status_only_moves_forward(current: OrderStatus, heard: OrderStatus, result: OrderStatus) -> None:
    kept = heard if newer(heard, 0, current, 0) else current
    assert kept is result


def test_a_refund_reversal_outranks_every_status_and_only_a_later_one_outranks_it() -> None:
    assert newer(D, 1, R, 0)  # refunded, then the refund failed: paid again is the later news
    assert not newer(R, 0, D, 1)  # the refunded event arriving late does not undo the reversal
    assert newer(R, 1, D, 1)  # refunded again after the reversal
    assert not newer(D, 1, D, 1)


def test_ranks_are_a_total_order_with_money_above_housekeeping() -> None:
    assert [s.rank for s in (P, F, C, D, R)] == [0, 1, 2, 3, 4]
    assert {s for s in OrderStatus if s.unpaid} == {P, F}


def test_an_unknown_status_is_refused_not_ranked() -> None:
    with pytest.raises(ValueError, match="is not a valid OrderStatus"):
        OrderStatus("bogus")


@pytest.mark.parametrize(
    ("status", "deadline", "expected"),
    [
        (P, None, True),
        (F, NOW + timedelta(seconds=1), True),
        (P, NOW, False),  # the deadline itself is too late
        (P, NOW - timedelta(minutes=1), False),
        (D, None, False),
        (C, NOW + timedelta(hours=1), False),
        (R, None, False),
        (P, (NOW + timedelta(minutes=5)).replace(tzinfo=None), True),  # naive: UTC
    ],
)
def test_payable_means_unpaid_and_before_the_deadline(
    status: OrderStatus, deadline: datetime | None, expected: bool
) -> None:
    assert payable(status, deadline, NOW) is expected
