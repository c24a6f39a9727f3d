"""gateway shop pages: the product list with its order form, and an order's page."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway import domain, pages
from gateway.deps import UpstreamsDep
from gateway.errors import PAGES_TAG, error_page
from gateway.schemas import PAGE_BODY_ERRORS, PAGE_UPSTREAM_ERRORS, Product, page
from gateway.throttle import OrderLimit
from gateway.upstreams import InvalidOrder

router = APIRouter(tags=[PAGES_TAG], default_response_class=HTMLResponse)
ORDER_NOT_FOUND = "We could not find that order. Check the link in your e-mail."


def shop_page(
    products: list[Product], form: domain.OrderForm | None = None, errors: dict[str, str] | None = None
) -> HTMLResponse:
    code = status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK
    return pages.render(
        "shop.html",
        code,
        title="Shop",
        products=products,
        form=form or domain.OrderForm(email="", quantities={}),
        errors=errors or {},
        qty_prefix=domain.QTY_PREFIX,
        max_quantity=domain.MAX_QUANTITY,
    )


@router.get("/", responses=PAGE_UPSTREAM_ERRORS)
async def show_shop(upstreams: UpstreamsDep) -> HTMLResponse:
    """The shop: products and an order form."""
    return shop_page(await upstreams.list_products())


@router.post(
    "/shop/orders",
    responses={
        303: {"description": "The order was created: its page"},
        **page(422, "The form again, with a message at each mistake"),
        **page(429, "Too many orders from this client: wait `Retry-After` seconds"),
        **PAGE_BODY_ERRORS,
        **PAGE_UPSTREAM_ERRORS,
    },
)
async def submit_order(request: Request, upstreams: UpstreamsDep, _: OrderLimit) -> Response:
    """The order form: creates the order, then shows its page (303); mistakes re-render the form."""
    fields = [(key, value) for key, value in (await request.form()).multi_items() if isinstance(value, str)]
    form = domain.read_order_form(fields)
    products = await upstreams.list_products()
    new_order, errors = domain.order_from_form(form, products)
    if new_order is None:
        return shop_page(products, form, errors)
    try:
        order = await upstreams.create_order(new_order)
    except InvalidOrder as exc:
        return shop_page(products, form, domain.upstream_messages(exc.body, new_order))
    return RedirectResponse(f"/orders/{order.id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/orders/{order_id}", responses={**page(404, "No such order"), **PAGE_UPSTREAM_ERRORS})
async def show_order(order_id: str, upstreams: UpstreamsDep) -> Response:
    """An order's page: status, lines, total, and a Pay button while it is payable."""
    parsed = domain.parse_uuid(order_id)
    order = await upstreams.get_order(parsed) if parsed else None
    if order is None:
        return error_page(status.HTTP_404_NOT_FOUND, ORDER_NOT_FOUND)
    return pages.render(
        "order.html", title="Your order", order=order, payable=domain.payable(order, datetime.now(UTC))
    )
