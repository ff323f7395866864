"""How a program runs its tiers: what counts, over which window, and how members move down."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class TierMeasure(StrEnum):
    POINTS = "POINTS"  # points earned (less reversals)
    SPEND = "SPEND"  # amount spent (less returns), in whole currency units


class TierWindow(StrEnum):
    ROLLING_12_MONTHS = "ROLLING_12_MONTHS"
    CALENDAR_YEAR = "CALENDAR_YEAR"


class DowngradePolicy(StrEnum):
    SUPPORTED = "SUPPORTED"  # at review, drop to the tier the measure supports
    ONE_LEVEL = "ONE_LEVEL"  # at review, drop one tier at most


@dataclass(frozen=True, slots=True)
class Tier:
    key: str
    name: str
    threshold: int
    multiplier: Decimal
    benefits: tuple[str, ...] = ()
    never_downgrade: bool = False  # once held, a member never drops below it at review


@dataclass(frozen=True, slots=True)
class TierSettings:
    """The program-wide tier settings: the measure, its window, the downgrade policy."""

    measure: TierMeasure = TierMeasure.POINTS
    window: TierWindow = TierWindow.ROLLING_12_MONTHS
    downgrade: DowngradePolicy = DowngradePolicy.SUPPORTED
    grace_days: int = 0  # after a review that falls short, the tier is kept this long more
