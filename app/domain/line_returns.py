"""Returns by line: take back exactly what the returned units of each line earned."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any

from app.domain.errors import DomainError, ErrorCode

CENT = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class ReturnLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class LineReturnPlan:
    due: int  # points to take back now
    refunded: Decimal  # merchandise amount the returned units were worth
    lines: list[dict[str, Any]]  # the order's lines with `returned` and `reversed` updated


def line_points(explanation: list[dict[str, Any]] | None, count: int) -> list[int]:
    """Points each line earned, from the stored explanation (shipping, index -1, aside)."""
    points = [0] * count
    for award in explanation or ():
        for index, gained in award.get("lines", ()):
            if 0 <= index < count:
                points[index] += int(gained)
    return points


def plan_line_return(
    lines: list[dict[str, Any]],
    explanation: list[dict[str, Any]] | None,
    returned: tuple[ReturnLine, ...],
) -> LineReturnPlan:
    """Cumulative per line: floor(line points x units returned / units bought), less what
    earlier returns of that line took; so several partial returns never take more. Points
    earned on shipping come back with the return that completes the whole order."""
    if not returned:
        raise DomainError(ErrorCode.INVALID_INPUT, "name at least one returned line", "lines")
    updated = [dict(line) for line in lines]
    earned = line_points(explanation, len(updated))
    was_whole = not all_returned(updated)
    touched: set[int] = set()
    refunded = Decimal(0)
    for item in returned:
        if item.quantity < 1:
            raise DomainError(ErrorCode.INVALID_INPUT, "quantity must be at least 1", "lines")
        left = item.quantity
        for index, line in enumerate(updated):
            if left == 0:
                break
            if line["sku"] != item.sku:
                continue
            room = int(line["quantity"]) - int(line.get("returned", 0))
            take = min(room, left)
            if take <= 0:
                continue
            line["returned"] = int(line.get("returned", 0)) + take
            net = Decimal(line["unitPrice"]) * int(line["quantity"]) - Decimal(line["discount"])
            refunded += (net * take / int(line["quantity"])).quantize(CENT, rounding=ROUND_FLOOR)
            touched.add(index)
            left -= take
        if left:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"returning {item.quantity} of {item.sku!r} is more than the order has left",
                "lines",
            )
    due = 0
    for index in sorted(touched):
        line = updated[index]
        share = Fraction(int(line["returned"]), int(line["quantity"]))
        target = math.floor(earned[index] * share)
        step = max(0, target - int(line.get("reversed", 0)))
        line["reversed"] = int(line.get("reversed", 0)) + step
        due += step
    if was_whole and all_returned(updated):
        due += shipping_points(explanation)  # the whole order came back: shipping's too
    return LineReturnPlan(due=due, refunded=refunded, lines=updated)


def fully_returned(line: dict[str, Any]) -> bool:
    return int(line.get("returned", 0)) >= int(line["quantity"])


def all_returned(lines: list[dict[str, Any]]) -> bool:
    return all(fully_returned(line) for line in lines)


def shipping_points(explanation: list[dict[str, Any]] | None) -> int:
    return sum(
        int(gained)
        for award in explanation or ()
        for index, gained in award.get("lines", ())
        if index == -1
    )
