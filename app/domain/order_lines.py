"""Order lines as clients send them: validated into rule-engine Lines, or a clear error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.errors import DomainError, ErrorCode
from app.domain.points import parse_amount
from app.domain.rules import Line
from app.domain.text import check_text

MAX_LINES = 500
MAX_QUANTITY = 100_000


@dataclass(frozen=True, slots=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: str
    category: str | None = None
    discount: str = "0"


def parse_lines(raw: tuple[LineInput, ...], amount: Decimal) -> tuple[Line, ...]:
    """Lines whose net amounts (after discounts) add up to the order's amount."""
    if len(raw) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_LINES} lines", "lines")
    lines: list[Line] = []
    for index, item in enumerate(raw):
        where = f"lines[{index}]"
        check_text(item.sku, f"{where}.sku", limit=100)
        if item.category is not None:
            check_text(item.category, f"{where}.category", limit=100)
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"quantity must be 1 to {MAX_QUANTITY}", where
            )
        price = parse_amount(item.unit_price, field=f"{where}.unitPrice")
        discount = parse_amount(item.discount, field=f"{where}.discount")
        if discount > price * item.quantity:
            raise DomainError(ErrorCode.INVALID_INPUT, "discount exceeds the line's price", where)
        lines.append(Line(item.sku, item.quantity, price, item.category, discount))
    total = sum((line.net for line in lines), Decimal(0))
    if lines and total != amount:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"lines add up to {total} after discounts, but amount is {amount}",
            "lines",
        )
    return tuple(lines)


def lines_data(lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [
        {
            "sku": line.sku,
            "category": line.category,
            "quantity": line.quantity,
            "unitPrice": str(line.unit_price),
            "discount": str(line.discount),
        }
        for line in lines
    ]
