"""What a failed refund's reversal says, as payments and orders publish it: for the domain and the live tiers.

Each tier compares the fields named here (a dict built from the message, or `model_dump(include=...)`)
with the builder's dict, so both tiers hold payments and orders to the same figures.
"""

from __future__ import annotations

from typing import Any

PAYMENT_REFUND_REVERSED = (
    "amount",
    "amount_reversed",
    "refund_id",
    "refund_amount",
    "refund_status",
    "failure_reason",
    "second_payment",
)
ORDER_REFUND_REVERSED = (
    "status",
    "amount_refunded",
    "refund_id",
    "refund_amount",
    "refund_status",
    "refund_reversals",
)


def payment_refund_reversed(refund_id: str, amount: int, failure_reason: str) -> dict[str, Any]:
    """payment.refund_reversed when the refund of a whole payment of `amount` failed: none stays refunded."""
    return {
        "amount": 0,
        "amount_reversed": amount,
        "refund_id": refund_id,
        "refund_amount": amount,
        "refund_status": "failed",
        "failure_reason": failure_reason,
        "second_payment": False,
    }


def order_refund_reversed(refund_id: str, refund_amount: int, still_refunded: int) -> dict[str, Any]:
    """order.refund_reversed after one failed refund of `refund_amount`: the order is paid again."""
    return {
        "status": "paid",
        "amount_refunded": still_refunded,
        "refund_id": refund_id,
        "refund_amount": refund_amount,
        "refund_status": "failed",
        "refund_reversals": 1,
    }
