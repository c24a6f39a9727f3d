"""Orders settings: the variables of ARCHITECTURE.md that the orders service reads."""

from typing import ClassVar

from pydantic import Field

from messaging.topology import TOPOLOGY
from runtime import BaseServiceSettings


class Settings(BaseServiceSettings):
    service: ClassVar[str] = "orders"
    orders_host: str = "127.0.0.1"
    orders_port: int = 8001
    orders_worker_port: int = 8011
    # The deadline check travels through the broker's delay levels, which cap how far ahead it can go.
    order_payment_ttl: float = Field(default=3600.0, gt=0, le=TOPOLOGY.max_delay)
    orders_max_body_bytes: int = 65536
