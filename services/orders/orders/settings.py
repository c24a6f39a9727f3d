"""Orders settings: the variables of ARCHITECTURE.md that the orders service reads."""

from pydantic import Field

from messaging.settings import ServiceSettings
from messaging.topology import TOPOLOGY


class Settings(ServiceSettings):
    orders_host: str = "127.0.0.1"
    orders_port: int = 8001
    # The deadline check travels through the broker's delay levels, which cap how far ahead it can go.
    order_payment_ttl: float = Field(default=3600.0, gt=0, le=TOPOLOGY.max_delay)
    orders_max_body_bytes: int = 65536
