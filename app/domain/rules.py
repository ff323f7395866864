"""Earning rules: deterministic, per line, capped, and explained.

Rules run in ascending `priority` (priorities are unique, so there are no ties). A rule
that matches the order applies its effect to the lines it selects:

- PER_UNIT: `value` points per currency unit of each line's net amount (after discounts);
- MULTIPLIER: each selected line's points so far times `value` (2 = double points);
- BONUS: `value` points for the order, shared over the selected lines by net amount.

A cap limits what one rule gives one member per day, week, month or year; `stop` ends
evaluation after a rule that applied. Every point is attributed to a line, so an order's
points are the sum of its lines' points and a returned line takes back exactly its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

SHIPPING_SKU = "__shipping__"


class Effect(StrEnum):
    PER_UNIT = "PER_UNIT"
    MULTIPLIER = "MULTIPLIER"
    BONUS = "BONUS"


class Period(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None
    discount: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        return max(Decimal(0), self.unit_price * self.quantity - self.discount)


@dataclass(frozen=True, slots=True)
class Purchase:
    """What a rule sees of an order; an order recorded without lines is one line."""

    channel: str
    occurred_at: datetime
    lines: tuple[Line, ...]
    shipping: Decimal = Decimal(0)
    activity: str | None = None  # an activity (REVIEW, CUSTOM:STORE_VISIT…), not a purchase

    @property
    def merchandise(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class Conditions:
    channels: frozenset[str] | None = None
    skus: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    min_order_amount: Decimal | None = None
    weekdays: frozenset[int] | None = None  # 0 = Monday, in the program's time zone
    time_from: time | None = None  # window [from, until); wraps past midnight if from > until
    time_until: time | None = None
    date_from: date | None = None  # inclusive, program time zone
    date_until: date | None = None  # inclusive
    tiers: frozenset[str] | None = None
    activities: frozenset[str] | None = None  # set: the rule earns on these activities only


@dataclass(frozen=True, slots=True)
class Cap:
    points: int
    period: Period


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    name: str
    priority: int
    effect: Effect
    value: Decimal
    conditions: Conditions = field(default_factory=Conditions)
    cap: Cap | None = None
    stop: bool = False
    include_shipping: bool = False


@dataclass(frozen=True, slots=True)
class Award:
    """What one rule gave: points per line index, and what a cap cut."""

    rule_key: str
    rule_name: str
    line_points: tuple[tuple[int, int], ...]  # (line index, points), index -1: shipping
    capped_by: int = 0  # points the cap removed

    @property
    def points(self) -> int:
        return sum(p for _, p in self.line_points)


@dataclass(frozen=True, slots=True)
class Explanation:
    awards: tuple[Award, ...]
    line_totals: tuple[int, ...]  # per line; shipping points, if any, in `shipping_points`
    shipping_points: int = 0

    @property
    def total(self) -> int:
        return sum(self.line_totals) + self.shipping_points


def period_start(moment: datetime, period: Period, zone: ZoneInfo) -> datetime:
    """Start of the cap period holding `moment`, in the program's time zone."""
    local = moment.astimezone(zone)
    day = datetime.combine(local.date(), time(0), zone)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=local.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def period_bounds(moment: datetime, period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The cap period holding `moment`: [start, end), in the program's time zone."""
    start = period_start(moment, period, zone)
    if period is Period.DAY:
        end = start.date() + timedelta(days=1)
    elif period is Period.WEEK:
        end = start.date() + timedelta(days=7)
    elif period is Period.MONTH:
        end = (start.date().replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        end = start.date().replace(year=start.year + 1)
    return start, datetime.combine(end, time(0), zone)


def _in_window(c: Conditions, moment: datetime, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    if c.weekdays is not None and local.weekday() not in c.weekdays:
        return False
    if c.date_from is not None and local.date() < c.date_from:
        return False
    if c.date_until is not None and local.date() > c.date_until:
        return False
    if c.time_from is not None and c.time_until is not None:
        now = local.time().replace(tzinfo=None)
        if c.time_from <= c.time_until:
            return c.time_from <= now < c.time_until
        return now >= c.time_from or now < c.time_until
    return True


def _order_matches(rule: Rule, purchase: Purchase, tier: str, zone: ZoneInfo) -> bool:
    c = rule.conditions
    if (c.activities is None) != (purchase.activity is None):
        return False  # purchase rules earn on purchases, activity rules on activities
    if c.activities is not None and purchase.activity not in c.activities:
        return False
    if c.channels is not None and purchase.channel not in c.channels:
        return False
    if c.tiers is not None and tier not in c.tiers:
        return False
    if c.min_order_amount is not None and purchase.merchandise < c.min_order_amount:
        return False
    return _in_window(c, purchase.occurred_at, zone)


def _selected(rule: Rule, purchase: Purchase) -> list[int]:
    c = rule.conditions
    chosen = [
        i
        for i, line in enumerate(purchase.lines)
        if (c.skus is None or line.sku in c.skus)
        and (c.categories is None or line.category in c.categories)
    ]
    if rule.include_shipping and purchase.shipping > 0:
        chosen.append(-1)
    return chosen


def share(total: int, weights: Sequence[Decimal]) -> list[int]:
    """Split `total` points by weight, rounding down, remainders to the largest fractions."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights, Decimal(0))
    if whole <= 0:  # nothing to weigh by: share evenly
        weights, whole = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [Decimal(total) * w / whole for w in weights]
    parts = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def evaluate(
    rules: Sequence[Rule],
    purchase: Purchase,
    *,
    tier: str,
    zone: ZoneInfo,
    awarded_in_period: Mapping[str, int] | None = None,
    rate_multiplier: Decimal = Decimal(1),
) -> Explanation:
    """The points a purchase earns, line by line, and which rule gave what.

    `awarded_in_period` maps a capped rule's key to what it already gave this member in
    the cap period holding the purchase (the caller reads it from the ledger).
    `rate_multiplier` (the member's tier multiplier) scales every PER_UNIT rate.
    """
    so_far = awarded_in_period or {}
    points: dict[int, int] = {i: 0 for i in range(len(purchase.lines))}
    points[-1] = 0
    awards: list[Award] = []
    for rule in sorted(rules, key=lambda r: r.priority):
        if not _order_matches(rule, purchase, tier, zone):
            continue
        chosen = _selected(rule, purchase)
        if not chosen:
            continue
        net = {i: purchase.shipping if i == -1 else purchase.lines[i].net for i in chosen}
        if rule.effect is Effect.PER_UNIT:
            rate = rule.value * rate_multiplier
            gains = [int((net[i] * rate).to_integral_value(ROUND_FLOOR)) for i in chosen]
        elif rule.effect is Effect.MULTIPLIER:
            factor = rule.value - 1
            gains = [int((points[i] * factor).to_integral_value(ROUND_FLOOR)) for i in chosen]
        else:
            gains = share(int(rule.value), [net[i] for i in chosen])
        gains = [max(0, g) for g in gains]
        wanted = sum(gains)
        cut = 0
        if rule.cap is not None:
            room = max(0, rule.cap.points - so_far.get(rule.key, 0))
            if wanted > room:
                cut = wanted - room
                gains = share(room, [Decimal(g) for g in gains])
        for i, gain in zip(chosen, gains, strict=True):
            points[i] += gain
        awards.append(
            Award(rule.key, rule.name, tuple(zip(chosen, gains, strict=True)), capped_by=cut)
        )
        if rule.stop:
            break
    return Explanation(
        awards=tuple(awards),
        line_totals=tuple(points[i] for i in range(len(purchase.lines))),
        shipping_points=points[-1],
    )
