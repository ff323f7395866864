"""Tally's own order webhook format, for platforms other than Shopify (`POST
/hooks/orders/{source}`, signed the Standard Webhooks way with the source's secret):

    {"type": "order.paid", "data": {"orderId": "A-1001", "externalId": "cust-7",
      "email": "ann@example.com", "amount": "59.90", "currency": "EUR",
      "occurredAt": "2026-12-04T10:15:00+00:00", "channel": "ONLINE", "shipping": "4.90",
      "lines": [{"sku": "TEE-M", "quantity": 2, "unitPrice": "29.95", "discount": "0"}]}}
    {"type": "order.refunded", "data": {"refundId": "R-77", "orderId": "A-1001",
      "lines": [{"sku": "TEE-M", "quantity": 1}]}}      (or "amount" for an order without lines)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.order_lines import LineInput
from app.domain.shopify import NotAnOrder, readable

ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"


@dataclass(frozen=True, slots=True)
class PaidOrder:
    order_ref: str
    external_id: str
    email: str | None
    amount: str
    currency: str
    occurred_at: datetime
    channel: str
    lines: tuple[LineInput, ...]
    shipping: str


@dataclass(frozen=True, slots=True)
class RefundedOrder:
    refund_ref: str
    order_ref: str
    amount: str | None
    lines: tuple[tuple[str, int], ...]


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise NotAnOrder(f"data.{key} is required")
    return str(value).strip()


def _data(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise NotAnOrder("the body's data is an object")
    return data


def parse_paid(body: Mapping[str, Any]) -> PaidOrder:
    return readable("an order", _parse_paid, body)


def _parse_paid(body: Mapping[str, Any]) -> PaidOrder:
    data = _data(body)
    try:
        occurred_at = datetime.fromisoformat(_text(data, "occurredAt"))
    except ValueError:
        raise NotAnOrder("data.occurredAt is an ISO 8601 date-time with an offset") from None
    lines = []
    for n, line in enumerate(data.get("lines") or []):
        if not isinstance(line, Mapping):
            raise NotAnOrder(f"data.lines[{n}] is an object")
        lines.append(
            LineInput(
                sku=_text(line, "sku"),
                quantity=int(line.get("quantity", 1)),
                unit_price=_text(line, "unitPrice"),
                category=line.get("category"),
                discount=str(line.get("discount", "0")),
            )
        )
    return PaidOrder(
        order_ref=_text(data, "orderId"),
        external_id=_text(data, "externalId"),
        email=data.get("email") if isinstance(data.get("email"), str) else None,
        amount=_text(data, "amount"),
        currency=_text(data, "currency"),
        occurred_at=occurred_at,
        channel=str(data.get("channel") or "ONLINE"),
        lines=tuple(lines),
        shipping=str(data.get("shipping") or "0"),
    )


def parse_refunded(body: Mapping[str, Any]) -> RefundedOrder:
    return readable("a refund", _parse_refunded, body)


def _parse_refunded(body: Mapping[str, Any]) -> RefundedOrder:
    data = _data(body)
    lines = tuple(
        (_text(line, "sku"), int(line.get("quantity", 1)))
        for line in data.get("lines") or []
        if isinstance(line, Mapping)
    )
    amount = data.get("amount")
    if not lines and amount is None:
        raise NotAnOrder("a refund names its lines or an amount")
    return RefundedOrder(
        refund_ref=_text(data, "refundId"),
        order_ref=_text(data, "orderId"),
        amount=None if amount is None else str(amount),
        lines=lines,
    )
