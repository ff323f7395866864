"""How a program measures tiers: what counts, over which window."""

from __future__ import annotations

from enum import StrEnum


class TierMeasure(StrEnum):
    POINTS = "POINTS"  # points earned (less reversals)
    SPEND = "SPEND"  # amount spent (less returns), in whole currency units


class TierWindow(StrEnum):
    ROLLING_12_MONTHS = "ROLLING_12_MONTHS"
    CALENDAR_YEAR = "CALENDAR_YEAR"
