"""Points arithmetic: earning from money, proportional reversal, integer-only results."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from app.domain.errors import DomainError, ErrorCode

MAX_AMOUNT = Decimal("1000000000")


class ReturnPolicy(StrEnum):
    """What a return does when the member already spent the points it takes back."""

    RECORD_SHORTFALL = "RECORD_SHORTFALL"  # take what is there, record the rest as shortfall
    NEGATIVE_BALANCE = "NEGATIVE_BALANCE"  # available goes below zero; later credits repay it


def parse_amount(raw: str | Decimal, *, field: str = "amount") -> Decimal:
    """A non-negative money amount with at most 4 decimal places."""
    try:
        amount = Decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{raw!r} is not a number", field) from None
    if not amount.is_finite() or amount < 0:
        raise DomainError(ErrorCode.INVALID_INPUT, "amount must be zero or more", field)
    if amount > MAX_AMOUNT:
        raise DomainError(ErrorCode.INVALID_INPUT, "amount is too large", field)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise DomainError(ErrorCode.INVALID_INPUT, "at most 4 decimal places", field)
    return amount


def reversal_due(
    *, earned: int, order_amount: Decimal, returned_total: Decimal, reversed_so_far: int
) -> int:
    """Points to reverse now so the cumulative reversal is proportional to what came back.

    Cumulative: floor(earned x min(returned, order) / order), minus what earlier returns
    already reversed. A full return reverses exactly `earned`; never more.
    """
    if earned <= 0:
        return 0
    if order_amount <= 0:
        target = earned if returned_total > 0 else 0
    else:
        # Exact rational arithmetic: a third of 30 points is 10, not floor(29.99...).
        share = Fraction(min(returned_total, order_amount)) / Fraction(order_amount)
        target = math.floor(earned * share)
    target = min(target, earned)
    return max(0, target - reversed_so_far)
