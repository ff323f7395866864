"""Points at checkout: what points are worth off an order, which amounts a checkout may
apply, and the discount spread over the order's lines.

[checkout]
points_value = "0.01"   # what one point takes off, in the program's currency: 100 = 1.00
min_points = 100        # the fewest a checkout may apply
step = 100              # applied in multiples of this
hold_minutes = 30       # an unused hold is released after this
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

from app.domain.definition_reader import Reader
from app.domain.errors import DomainError, ErrorCode
from app.domain.rules import Line

MAX_POINTS_VALUE = Decimal("1000")
MAX_HOLD_MINUTES = 24 * 60
DEFAULT_HOLD_MINUTES = 30


@dataclass(frozen=True, slots=True)
class CheckoutTerms:
    """How a program takes points as payment."""

    points_value: Decimal  # money per point
    min_points: int = 1
    step: int = 1
    hold_minutes: int = DEFAULT_HOLD_MINUTES

    def discount(self, points: int, decimals: int) -> Decimal:
        """What `points` take off, rounded down to the currency's minor unit."""
        unit = Decimal(1).scaleb(-decimals)
        return (self.points_value * points).quantize(unit, rounding=ROUND_DOWN)

    def refusal(self, points: int) -> str | None:
        """Why a checkout may not apply `points`, or None when it may."""
        if points < self.min_points:
            return f"at least {self.min_points} points are applied at checkout"
        if points % self.step:
            return f"points are applied in steps of {self.step}"
        return None

    def usable(self, available: int) -> int:
        """The most of `available` a checkout may apply (0 when below the minimum)."""
        most = available - available % self.step
        return most if most >= self.min_points else 0

    def most_for(self, amount: Decimal) -> int:
        """The most points (in whole steps) whose discount is no more than `amount`."""
        points = int((amount / self.points_value).to_integral_value(rounding=ROUND_DOWN))
        return points - points % self.step


@dataclass(frozen=True, slots=True)
class CheckoutOffer:
    """What a checkout can offer a member now: the points it may apply and their value."""

    points: int
    value: Decimal
    currency: str
    terms: CheckoutTerms


def offer(
    terms: CheckoutTerms,
    currency: str,
    decimals: int,
    *,
    available: int | None,
    amount: Decimal | None = None,
) -> CheckoutOffer:
    """The most a checkout can apply: of the member's `available` points (None: no member
    known), and for an order of `amount` no more than covers it."""
    points = terms.usable(available) if available is not None else None
    if amount is not None:
        cover = terms.most_for(amount)
        points = cover if points is None else min(points, cover)
    points = points or 0
    if points < terms.min_points:
        points = 0
    return CheckoutOffer(points, terms.discount(points, decimals), currency, terms)


def parse_checkout(read: Reader, raw: object) -> CheckoutTerms | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        read.fail("checkout", "a [checkout] table is required")
        return None
    known = {"points_value", "min_points", "step", "hold_minutes"}
    for key in raw:
        if key not in known:
            read.fail(f"checkout.{key}", f"unknown setting; known: {sorted(known)}")
    if "points_value" not in raw:
        read.fail("checkout.points_value", "what one point is worth is required, e.g. '0.01'")
    value = read.decimal(raw, "points_value", "checkout", "0.01", maximum=MAX_POINTS_VALUE)
    step = read.integer(raw, "step", "checkout", minimum=1, maximum=1_000_000, optional=True)
    least = read.integer(
        raw, "min_points", "checkout", minimum=1, maximum=10_000_000, optional=True
    )
    hold = read.integer(
        raw, "hold_minutes", "checkout", minimum=1, maximum=MAX_HOLD_MINUTES, optional=True
    )
    step = step or 1
    least = least or step
    if least % step:
        read.fail("checkout.min_points", f"must be a multiple of step ({step})")
    return CheckoutTerms(value, least, step, hold or DEFAULT_HOLD_MINUTES)


def checkout_to_data(terms: CheckoutTerms) -> dict[str, Any]:
    return {
        "points_value": str(terms.points_value),
        "min_points": terms.min_points,
        "step": terms.step,
        "hold_minutes": terms.hold_minutes,
    }


def spread_discount(lines: tuple[Line, ...], discount: Decimal, decimals: int) -> tuple[Line, ...]:
    """The lines with a check-level `discount` shared out over them in proportion to their
    net amounts (rounded to the currency; the last line with room takes what is left), so
    rules by SKU or category earn on what was paid for each line."""
    total = sum((line.net for line in lines), Decimal(0))
    if discount <= 0:
        return lines
    if discount > total:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"the points discount ({discount}) is more than the order's amount ({total})",
            "amount",
        )
    unit = Decimal(1).scaleb(-decimals)
    shares = [(discount * line.net / total).quantize(unit, rounding=ROUND_DOWN) for line in lines]
    left = discount - sum(shares, Decimal(0))
    for index in reversed(range(len(lines))):
        room = lines[index].net - shares[index]
        take = min(room, left)
        shares[index] += take
        left -= take
        if not left:
            break
    return tuple(
        replace(line, discount=line.discount + share)
        for line, share in zip(lines, shares, strict=True)
    )
