"""Tier progress: where a member stands and what the next tier (or keeping this one) needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.program import Program
from app.domain.tiers.lifecycle import Standing, held, points_to_keep
from app.domain.tiers.policy import Tier, TierWindow


@dataclass(frozen=True, slots=True)
class TierProgress:
    current: Tier
    next: Tier | None
    qualifying_points: int
    points_to_next: int
    progress: float  # 0.0 to 1.0 of the way from current to next; 1.0 at the top tier
    period_ends_at: datetime | None  # when the measure next drops or resets
    since: datetime | None = None
    review_at: datetime | None = None
    grace_ends_at: datetime | None = None
    points_to_keep: int = 0


@dataclass(frozen=True, slots=True)
class MeasuredTier:
    """A member's tier measure now, when it next drops, and over the review window so far."""

    value: int
    period_ends_at: datetime | None
    for_review: int | None = None  # None: the same as `value`


def tier_progress(
    program: Program, standing: Standing | None, measured: MeasuredTier
) -> TierProgress:
    """Progress from the stored standing; a standing not evaluated yet shows the tier the
    measure supports, with no period of its own."""
    current = held(program, standing) if standing is not None else None
    known = standing if current is not None else None
    current = current or program.tier_for(measured.value)
    kept = measured.value if measured.for_review is None else measured.for_review
    upcoming = program.next_tier(current)
    value = measured.value
    span = upcoming.threshold - current.threshold if upcoming else 0
    ratio = float(Decimal(value - current.threshold) / Decimal(span)) if span > 0 else 1.0
    return TierProgress(
        current=current,
        next=upcoming,
        qualifying_points=value,
        points_to_next=max(0, upcoming.threshold - value) if upcoming else 0,
        progress=min(1.0, max(0.0, ratio)) if upcoming else 1.0,
        period_ends_at=measured.period_ends_at,
        since=known.since if known else None,
        review_at=known.period_ends_at if known else None,
        grace_ends_at=known.grace_until if known else None,
        points_to_keep=points_to_keep(program, known, current, kept) if known else 0,
    )


def measurement_window(program: Program, now: datetime) -> tuple[datetime, datetime | None]:
    """Where the tier measure starts, and when a calendar-year period ends (None: rolling)."""
    if program.tier_window is TierWindow.CALENDAR_YEAR:
        zone = ZoneInfo(program.time_zone)
        local = now.astimezone(zone)
        start = datetime(local.year, 1, 1, tzinfo=zone)
        return start, datetime(local.year + 1, 1, 1, tzinfo=zone)
    return now - timedelta(days=program.qualifying_days), None


__all__ = ["MeasuredTier", "TierProgress", "measurement_window", "tier_progress"]
