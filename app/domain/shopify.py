"""Shopify's order webhooks as Tally reads them: the HMAC that proves a body came from the
shop, and `orders/paid` and `refunds/create` bodies (Shopify's REST Order and Refund) as
the purchase and the return by line they stand for."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from app.domain.order_lines import LineInput

ORDERS_PAID = "orders/paid"
REFUNDS_CREATE = "refunds/create"
TOPICS = (ORDERS_PAID, REFUNDS_CREATE)


class NotAnOrder(ValueError):
    """A body that does not hold what its topic promises (the reason is the message)."""


T = TypeVar("T")


def readable(what: str, parse: Callable[[Mapping[str, Any]], T], body: Mapping[str, Any]) -> T:
    """`parse(body)`, any value it cannot read (a quantity "two", a line that is no
    object) refused as NotAnOrder with the reason, never a crash of the worker."""
    try:
        return parse(body)
    except NotAnOrder:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as bad:
        raise NotAnOrder(f"not {what} Tally can read: {type(bad).__name__}: {bad}") from None


def verify_hmac(secret: str, body: bytes, header: str | None) -> bool:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body with the shop's
    secret, compared in constant time."""
    if not header or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode())


def sign_hmac(secret: str, body: bytes) -> str:
    """What Shopify puts in X-Shopify-Hmac-Sha256 for `body` (for tests and tools)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True, slots=True)
class ShopifyOrder:
    order_ref: str
    customer_id: str | None
    email: str | None
    currency: str
    occurred_at: datetime
    amount: Decimal  # the lines after their discounts (tax and shipping apart)
    lines: tuple[LineInput, ...]
    shipping: Decimal


@dataclass(frozen=True, slots=True)
class ShopifyRefund:
    refund_ref: str
    order_ref: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity) returned


def _money(value: object, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise NotAnOrder(f"{what} is not an amount: {str(value)[:40]!r}") from None
    if not amount.is_finite() or amount < 0:
        raise NotAnOrder(f"{what} is not an amount: {str(value)[:40]!r}")
    return amount


def _sku(item: Mapping[str, Any]) -> str:
    sku = str(item.get("sku") or "").strip()
    if sku:
        return sku[:100]
    return f"shopify-line-{item.get('id')}"  # no SKU: its line, which its refund names too


def order_ref(shopify_id: object) -> str:
    return str(shopify_id)


def parse_order(body: Mapping[str, Any]) -> ShopifyOrder:
    """An `orders/paid` body as the purchase it records."""
    return readable("an order", _parse_order, body)


def _parse_order(body: Mapping[str, Any]) -> ShopifyOrder:
    if "id" not in body or "line_items" not in body:
        raise NotAnOrder("an order has an id and line_items")
    customer = body.get("customer") or {}
    lines: list[LineInput] = []
    total = Decimal(0)
    for n, item in enumerate(body["line_items"] or []):
        if not isinstance(item, Mapping):
            raise NotAnOrder(f"line_items[{n}] is not a line")
        quantity = int(item.get("quantity") or 0)
        if quantity <= 0:
            continue  # a removed line
        price = _money(item.get("price", "0"), f"line_items[{n}].price")
        allocations = item.get("discount_allocations")
        if allocations:
            discount = sum(
                (_money(a.get("amount", "0"), f"line_items[{n}] discount") for a in allocations),
                Decimal(0),
            )
        else:
            discount = _money(item.get("total_discount", "0"), f"line_items[{n}].total_discount")
        discount = min(discount, price * quantity)
        if body.get("taxes_included"):  # prices hold their tax: earn on what is not tax
            tax = sum(
                (
                    _money(t.get("price", "0"), f"line_items[{n}] tax")
                    for t in item.get("tax_lines") or []
                ),
                Decimal(0),
            )
            discount = min(price * quantity, discount + tax)
        total += price * quantity - discount
        lines.append(
            LineInput(
                sku=_sku(item),
                quantity=quantity,
                unit_price=str(price),
                category=str(item.get("product_type") or "")[:100] or None,
                discount=str(discount),
            )
        )
    shipping = Decimal(0)
    for line in body.get("shipping_lines") or []:
        cost = _money(line.get("price", "0"), "shipping_lines.price")
        off = sum(
            (
                _money(a.get("amount", "0"), "shipping discount")
                for a in line.get("discount_allocations") or []
            ),
            Decimal(0),
        )
        shipping += max(Decimal(0), cost - off)
    when = body.get("processed_at") or body.get("created_at")
    try:
        occurred_at = datetime.fromisoformat(str(when))
    except ValueError:
        raise NotAnOrder(f"the order's time is not ISO 8601: {str(when)[:40]!r}") from None
    return ShopifyOrder(
        order_ref=order_ref(body["id"]),
        customer_id=str(customer["id"]) if customer.get("id") is not None else None,
        email=(customer.get("email") or body.get("email") or None),
        currency=str(body.get("currency") or ""),
        occurred_at=occurred_at,
        amount=total,
        lines=tuple(lines),
        shipping=shipping,
    )


def parse_refund(body: Mapping[str, Any]) -> ShopifyRefund:
    """A `refunds/create` body as the return by line it records."""
    return readable("a refund", _parse_refund, body)


def customer_of(body: Mapping[str, Any]) -> str | None:
    """The customer a stored webhook is about (so an erasure can redact it)."""
    customer = body.get("customer")
    if isinstance(customer, Mapping) and customer.get("id") is not None:
        return str(customer["id"])[:200]
    data = body.get("data")
    if isinstance(data, Mapping) and data.get("externalId") is not None:
        return str(data["externalId"])[:200]
    return None


def _parse_refund(body: Mapping[str, Any]) -> ShopifyRefund:
    if "id" not in body or "order_id" not in body:
        raise NotAnOrder("a refund has an id and an order_id")
    returned: dict[str, int] = {}
    for n, item in enumerate(body.get("refund_line_items") or []):
        line = item.get("line_item") if isinstance(item, Mapping) else None
        if not isinstance(line, Mapping):
            raise NotAnOrder(f"refund_line_items[{n}] has no line_item")
        quantity = int(item.get("quantity") or 0)
        if quantity > 0:
            sku = _sku(line)
            returned[sku] = returned.get(sku, 0) + quantity
    return ShopifyRefund(
        refund_ref=str(body["id"]),
        order_ref=order_ref(body["order_id"]),
        lines=tuple(sorted(returned.items())),
    )
