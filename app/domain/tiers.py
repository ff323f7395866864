"""Tier progress: where a member stands and what the next tier needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.program import Program, Tier
from app.domain.tier_policy import TierMeasure, TierWindow


@dataclass(frozen=True, slots=True)
class TierProgress:
    current: Tier
    next: Tier | None
    qualifying_points: int
    points_to_next: int
    progress: float  # 0.0 to 1.0 of the way from current to next; 1.0 at the top tier
    period_ends_at: datetime | None


def tier_progress(
    program: Program, qualifying_points: int, period_ends_at: datetime | None
) -> TierProgress:
    current = program.tier_for(qualifying_points)
    upcoming = program.next_tier(current)
    if upcoming is None:
        return TierProgress(current, None, qualifying_points, 0, 1.0, period_ends_at)
    span = upcoming.threshold - current.threshold
    done = qualifying_points - current.threshold
    ratio = float(Decimal(done) / Decimal(span)) if span > 0 else 1.0
    return TierProgress(
        current=current,
        next=upcoming,
        qualifying_points=qualifying_points,
        points_to_next=max(0, upcoming.threshold - qualifying_points),
        progress=min(1.0, max(0.0, ratio)),
        period_ends_at=period_ends_at,
    )


def measurement_window(program: Program, now: datetime) -> tuple[datetime, datetime | None]:
    """Where the tier measure starts, and when a calendar-year period ends (None: rolling)."""
    if program.tier_window is TierWindow.CALENDAR_YEAR:
        zone = ZoneInfo(program.time_zone)
        local = now.astimezone(zone)
        start = datetime(local.year, 1, 1, tzinfo=zone)
        return start, datetime(local.year + 1, 1, 1, tzinfo=zone)
    return now - timedelta(days=program.qualifying_days), None


__all__ = ["TierMeasure", "TierProgress", "measurement_window", "tier_progress"]
