"""Catalogue route: the products on sale."""

from fastapi import APIRouter

from orders import services
from orders.deps import DepsDep
from orders.schemas import ProductPublic

router = APIRouter(prefix="/products", tags=["products"])


@router.get("")
async def list_products(deps: DepsDep) -> list[ProductPublic]:
    """Active products, price in minor units."""
    return [ProductPublic.of(product) for product in await services.list_products(deps)]
