"""Points arithmetic: earning from money, proportional reversal, integer-only results."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from app.domain.errors import DomainError, ErrorCode

MAX_AMOUNT = Decimal("1000000000")

#: The most any member-level quantity may hold (a balance, lifetime earned, a transfer's
#: or an order's points): GraphQL's Int is 32-bit signed, so nothing past it can be shown.
POINTS_LIMIT = 2**31 - 1

#: A plain ASCII decimal: no sign, exponent, underscore, space or non-ASCII digit.
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,16})?")

#: ISO 4217 minor units where they are not 2 (currencies without a listed exception: 2).
_MINOR_UNITS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def currency_decimals(currency: str) -> int:
    """How many decimal places an amount in `currency` may have (ISO 4217 minor units)."""
    return _MINOR_UNITS.get(currency, 2)


def within_points_limit(value: int, what: str, field: str | None = None) -> int:
    """`value`, or LIMIT_REACHED when it is past what the API can show."""
    if value > POINTS_LIMIT:
        raise DomainError(
            ErrorCode.LIMIT_REACHED,
            f"{what} would be {value:,} points, past the limit of {POINTS_LIMIT:,} "
            "(the largest GraphQL Int)",
            field,
        )
    return value


class ReturnPolicy(StrEnum):
    """What a return does when the member already spent the points it takes back."""

    RECORD_SHORTFALL = "RECORD_SHORTFALL"  # take what is there, record the rest as shortfall
    NEGATIVE_BALANCE = "NEGATIVE_BALANCE"  # available goes below zero; later credits repay it


def parse_amount(
    raw: str | Decimal, *, field: str = "amount", decimals: int = 4, currency: str | None = None
) -> Decimal:
    """A non-negative money amount, written as a plain ASCII decimal (`12`, `12.50`), with
    at most `decimals` decimal places (the currency's, when it is known)."""
    if isinstance(raw, str) and not _PLAIN_DECIMAL.fullmatch(raw):
        if raw.startswith("-") and _PLAIN_DECIMAL.fullmatch(raw[1:]):
            raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be zero or more", field)
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{field} must be a plain decimal such as 12 or 12.50 (ASCII digits, a dot, no "
            f"sign, spaces or separators); got {raw[:40]!r}",
            field,
        )
    try:
        amount = Decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{raw!r} is not a number", field) from None
    if not amount.is_finite() or amount < 0:
        raise DomainError(ErrorCode.INVALID_INPUT, "amount must be zero or more", field)
    if amount > MAX_AMOUNT:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{field} is too large: at most {MAX_AMOUNT:,}", field
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -decimals:
        unit = f" for {currency}" if currency else ""
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{field}: at most {decimals} decimal places{unit}", field
        )
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
