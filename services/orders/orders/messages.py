"""Messages the orders service sends only to itself (never to an exchange): the payment deadline check."""

from typing import ClassVar
from uuid import UUID

from messaging.event import Event


class PaymentDeadlineReached(Event):
    """Sent delayed by ORDER_PAYMENT_TTL straight into `orders.deadlines` when an order is created."""

    routing_key: ClassVar[str] = "order.payment_deadline_reached"
    order_id: UUID
